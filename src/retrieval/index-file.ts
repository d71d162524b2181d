/**
 * The file of a saved vector index: magic `KDVI`, format version (u32 LE), header length
 * (u32 LE), a JSON header, then the binary sections the header lists, each starting at a
 * multiple of 8 bytes. Files are written to a temporary name and renamed into place.
 */
import { openSync, closeSync, readFileSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { VectorIndexKind } from './vector-index.js';

const MAGIC = 'KDVI';
const VERSION = 1;

export interface IndexFileHeader {
  kind: VectorIndexKind;
  dim: number;
  size: number;
  /** Settings of the index kind (plain JSON). */
  settings: Record<string, number | string | boolean>;
}

export interface IndexFile {
  header: IndexFileHeader;
  sections: Record<string, Uint8Array>;
}

interface StoredHeader extends IndexFileHeader {
  sections: { name: string; offset: number; bytes: number }[];
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes the header and sections to `file` (through a temporary file renamed into place). */
export function writeIndexFile(
  file: string,
  header: IndexFileHeader,
  sections: Record<string, ArrayBufferView>,
): void {
  const names = Object.keys(sections);
  const stored: StoredHeader = { ...header, sections: [] };
  // Offsets are relative to the end of the header block.
  let at = 0;
  for (const name of names) {
    const bytes = sections[name].byteLength;
    stored.sections.push({ name, offset: at, bytes });
    at = align8(at + bytes);
  }
  const json = Buffer.from(JSON.stringify(stored), 'utf8');
  const headBytes = align8(12 + json.length);
  const head = Buffer.alloc(headBytes, 0x20);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    let written = 0;
    const pad = new Uint8Array(8);
    for (const s of stored.sections) {
      if (s.offset > written) writeSync(fd, pad, 0, s.offset - written);
      writeSync(fd, bytesOf(sections[s.name]));
      written = s.offset + s.bytes;
    }
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  renameSync(tmp, file);
}

/** Reads a file written by writeIndexFile; throws naming the file when it is not one. */
export function readIndexFile(file: string): IndexFile {
  return parseIndexFile(readFileSync(file), file);
}

/** As readIndexFile, reading without blocking the thread. */
export async function readIndexFileAsync(file: string): Promise<IndexFile> {
  return parseIndexFile(await readFile(file), file);
}

function parseIndexFile(buf: Buffer, file: string): IndexFile {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== MAGIC) {
    throw new Error(`${file} is not a saved vector index`);
  }
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`${file}: vector index format ${version} is not supported`);
  const jsonBytes = buf.readUInt32LE(8);
  if (12 + jsonBytes > buf.length) throw new Error(`${file}: truncated vector index header`);
  const stored = JSON.parse(buf.toString('utf8', 12, 12 + jsonBytes)) as StoredHeader;
  const base = align8(12 + jsonBytes);
  const sections: Record<string, Uint8Array> = {};
  for (const s of stored.sections) {
    const from = base + s.offset;
    if (from + s.bytes > buf.length) throw new Error(`${file}: section ${s.name} is truncated`);
    // Copy into an aligned buffer of its own so typed views of any width fit.
    sections[s.name] = new Uint8Array(buf.subarray(from, from + s.bytes));
  }
  const { kind, dim, size, settings } = stored;
  return { header: { kind, dim, size, settings }, sections };
}

/** The float32 section `name` of a read file, expected to hold `count` floats. */
export function floatSection(f: IndexFile, name: string, count: number): Float32Array {
  const s = f.sections[name];
  if (!s || s.byteLength !== count * 4) {
    throw new Error(`vector index section ${name} holds ${s?.byteLength ?? 0} bytes, expected ${count * 4}`);
  }
  return new Float32Array(s.buffer, s.byteOffset, count);
}
