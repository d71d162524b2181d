/** Streaming line reader: yields the lines of a file in chunks, without holding the whole file. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Progress } from '../progress.js';

export type TextEncoding = 'utf8' | 'latin1';

export interface LineChunk {
  /** Lines without their `\n` or `\r\n`. */
  lines: string[];
  /** 1-based line number of `lines[0]`. */
  firstLine: number;
}

export interface ReadOptions {
  /** Default utf8; MovieLens 100K item titles are Latin-1. */
  encoding?: TextEncoding;
  /** Receives bytes read. */
  progress?: Progress;
  /** Bytes read per step. Default 1 MiB. */
  chunkBytes?: number;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

export interface TextChunk {
  /** Whole lines joined by `\n` (no trailing one); a `\r` may end each line. */
  text: string;
  /** 1-based line number of the first line in `text`. */
  firstLine: number;
}

/**
 * Yields the file's text in pieces that end on line boundaries, about `chunkBytes` each. Lets hot
 * loops walk the text by position instead of allocating a string per line.
 */
export async function* readTextChunks(path: string, options: ReadOptions = {}): AsyncGenerator<TextChunk> {
  const stream = createReadStream(path, {
    encoding: options.encoding ?? 'utf8',
    highWaterMark: options.chunkBytes ?? 1 << 20,
  });
  let carry = '';
  let firstLine = 1;
  let first = true;
  try {
    for await (const piece of stream as AsyncIterable<string>) {
      let text = carry + piece;
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const end = text.lastIndexOf('\n');
      if (end < 0) {
        carry = text;
        continue;
      }
      carry = text.slice(end + 1);
      const body = text.slice(0, end);
      options.progress?.update(stream.bytesRead);
      yield { text: body, firstLine };
      firstLine += countNewlines(body) + 1;
    }
    if (carry.length > 0) yield { text: carry, firstLine };
    options.progress?.update(stream.bytesRead);
  } finally {
    stream.destroy();
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Yields the file's lines in order, a chunk (about `chunkBytes` of text) at a time. */
export async function* readLineChunks(path: string, options: ReadOptions = {}): AsyncGenerator<LineChunk> {
  for await (const { text, firstLine } of readTextChunks(path, options)) {
    const lines = text.split('\n');
    if (text.indexOf('\r') >= 0) stripCarriageReturns(lines);
    yield { lines, firstLine };
  }
}

function stripCarriageReturns(lines: string[]): void {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
  }
}

/** The first line of a file (for header and delimiter sniffing); '' for an empty file. */
export async function readFirstLine(path: string, encoding: TextEncoding = 'utf8'): Promise<string> {
  for await (const chunk of readLineChunks(path, { encoding, chunkBytes: 64 * 1024 })) {
    return chunk.lines[0] ?? '';
  }
  return '';
}
