/**
 * Binary model artifact, format version 1 (all integers little-endian):
 *
 * | offset | size | content                                              |
 * |--------|------|------------------------------------------------------|
 * | 0      | 4    | magic `KDRM`                                         |
 * | 4      | 4    | format version (uint32)                              |
 * | 8      | 4    | byte length H of the JSON header (uint32)            |
 * | 12     | 4    | CRC-32 of the JSON header bytes (uint32)             |
 * | 16     | H    | JSON header, UTF-8 (see `StoredHeader`)              |
 * | D      | ...  | data region; D = 16 + H rounded up to a multiple of 8 |
 *
 * Each array occupies `length * bytesPerElement` bytes at `D + offset`, every offset a
 * multiple of 8, so a file read into an 8-aligned buffer yields zero-copy typed-array views.
 * The header carries the CRC-32 of the whole data region.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, link, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { JsonObject } from '../domain/types.js';
import type { ModelInfo, Recommender } from './model.js';

export const ARTIFACT_MAGIC = 'KDRM';
export const ARTIFACT_FORMAT_VERSION = 1;
const PREAMBLE_BYTES = 16;

export type ArrayDType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

export type ArtifactArray =
  Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface ArrayDescriptor {
  name: string;
  dtype: ArrayDType;
  /** Number of elements. */
  length: number;
  /** Byte offset from the start of the data region (multiple of 8). */
  offset: number;
}

/** What a model stores besides its arrays. */
export interface ArtifactHeader {
  info: ModelInfo;
  /** External item ids, by item index. */
  itemIds: readonly string[];
  /** Model-specific scalars (reference times, counts, ...). */
  extra?: JsonObject;
}

/** The JSON header as written. */
interface StoredHeader extends ArtifactHeader {
  arrays: ArrayDescriptor[];
  dataBytes: number;
  dataCrc32: number;
}

export interface Artifact {
  header: ArtifactHeader;
  arrays: Record<string, ArtifactArray>;
}

/** A recommender that can be written to an artifact. */
export interface SavableRecommender extends Recommender {
  toArtifact(): Artifact;
}

export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactError';
  }
}

const DTYPES: Record<
  ArrayDType,
  { bytes: number; make: (buf: ArrayBuffer, offset: number, length: number) => ArtifactArray }
> = {
  int8: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  uint8: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  int16: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  uint16: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  int32: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  uint32: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  float32: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  float64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

function dtypeOf(a: ArtifactArray): ArrayDType {
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Float32Array) return 'float32';
  return 'float64';
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

function bytesOf(a: ArtifactArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

if (os.endianness() !== 'LE') {
  throw new ArtifactError('model artifacts require a little-endian host');
}

/** Serialises an artifact into byte chunks whose concatenation is the file content. */
export function encodeArtifact(header: ArtifactHeader, arrays: Record<string, ArtifactArray>): Uint8Array[] {
  const descriptors: ArrayDescriptor[] = [];
  const sections: Uint8Array[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    descriptors.push({ name, dtype: dtypeOf(a), length: a.length, offset });
    sections.push(bytesOf(a));
    offset = align8(offset + a.byteLength);
  }
  const dataBytes = offset;
  const padding = new Uint8Array(8);
  const dataChunks: Uint8Array[] = [];
  let crc = 0;
  for (const s of sections) {
    // Empty views are skipped: crc32 of an empty view over an empty buffer ignores the running value.
    if (s.byteLength === 0) continue;
    crc = crc32(s, crc);
    dataChunks.push(s);
    const pad = align8(s.byteLength) - s.byteLength;
    if (pad > 0) {
      const p = padding.subarray(0, pad);
      crc = crc32(p, crc);
      dataChunks.push(p);
    }
  }
  const stored: StoredHeader = {
    info: header.info,
    itemIds: header.itemIds,
    ...(header.extra ? { extra: header.extra } : {}),
    arrays: descriptors,
    dataBytes,
    dataCrc32: crc >>> 0,
  };
  const json = Buffer.from(JSON.stringify(stored), 'utf8');
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  preamble.write(ARTIFACT_MAGIC, 0, 'ascii');
  preamble.writeUInt32LE(ARTIFACT_FORMAT_VERSION, 4);
  preamble.writeUInt32LE(json.byteLength, 8);
  preamble.writeUInt32LE(crc32(json) >>> 0, 12);
  const headPad = align8(PREAMBLE_BYTES + json.byteLength) - PREAMBLE_BYTES - json.byteLength;
  return [preamble, json, padding.subarray(0, headPad), ...dataChunks];
}

/**
 * Parses artifact bytes. Arrays are views into `bytes` when it is 8-byte aligned, copies
 * otherwise. Throws ArtifactError on a malformed or corrupted artifact.
 */
export function decodeArtifact(bytes: Uint8Array, source = 'artifact'): Artifact {
  const fail = (why: string): never => {
    throw new ArtifactError(`${source}: ${why}`);
  };
  if (bytes.byteLength < PREAMBLE_BYTES) fail('file too short');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.toString('ascii', 0, 4) !== ARTIFACT_MAGIC) fail('not a Kindred model artifact (bad magic)');
  const version = buf.readUInt32LE(4);
  if (version !== ARTIFACT_FORMAT_VERSION) fail(`unsupported format version ${version}`);
  const headerBytes = buf.readUInt32LE(8);
  if (PREAMBLE_BYTES + headerBytes > buf.byteLength) fail('truncated header');
  const json = buf.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes);
  if (crc32(json) >>> 0 !== buf.readUInt32LE(12)) fail('header checksum mismatch');
  const stored = JSON.parse(json.toString('utf8')) as StoredHeader;
  const dataStart = align8(PREAMBLE_BYTES + headerBytes);
  if (dataStart + stored.dataBytes > buf.byteLength) fail('truncated data');
  const data = bytes.subarray(dataStart, dataStart + stored.dataBytes);
  if (crc32(data) >>> 0 !== stored.dataCrc32) fail('data checksum mismatch');

  const aligned = (bytes.byteOffset + dataStart) % 8 === 0;
  const region = aligned ? data : data.slice();
  const arrays: Record<string, ArtifactArray> = {};
  for (const d of stored.arrays) {
    const spec = DTYPES[d.dtype];
    if (!spec) fail(`array '${d.name}' has unknown dtype '${d.dtype}'`);
    if (d.offset % 8 !== 0 || d.offset + d.length * spec.bytes > stored.dataBytes) {
      fail(`array '${d.name}' lies outside the data region`);
    }
    arrays[d.name] = spec.make(region.buffer as ArrayBuffer, region.byteOffset + d.offset, d.length);
  }
  const header: ArtifactHeader = {
    info: stored.info,
    itemIds: stored.itemIds,
    ...(stored.extra ? { extra: stored.extra } : {}),
  };
  return { header, arrays };
}

export interface WriteArtifactOptions {
  /** Replace an existing file (default true); when false an existing file fails with EEXIST. */
  overwrite?: boolean;
}

/**
 * Writes an artifact atomically: a temporary file in the same directory is written and
 * fsynced, then renamed (or, without `overwrite`, hard-linked) into place.
 */
export async function writeArtifact(
  file: string,
  header: ArtifactHeader,
  arrays: Record<string, ArtifactArray>,
  options: WriteArtifactOptions = {},
): Promise<void> {
  const chunks = encodeArtifact(header, arrays);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    try {
      for (const c of chunks) {
        let written = 0;
        while (written < c.byteLength) {
          const r = await fh.write(c, written, c.byteLength - written);
          written += r.bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.overwrite === false) {
      await link(tmp, file);
      await unlink(tmp);
    } else {
      await rename(tmp, file);
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Reads and verifies an artifact; its arrays are views into one freshly allocated buffer. */
export async function readArtifact(file: string): Promise<Artifact> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const bytes = new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const r = await fh.read(bytes, read, size - read, read);
      if (r.bytesRead === 0) break;
      read += r.bytesRead;
    }
    return decodeArtifact(bytes.subarray(0, read), file);
  } finally {
    await fh.close();
  }
}

/** Synchronous `readArtifact`, for start-up paths. */
export function readArtifactSync(file: string): Artifact {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, bytes, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return decodeArtifact(bytes.subarray(0, read), file);
  } finally {
    closeSync(fd);
  }
}

/** The named array of an artifact, checked for type and (optionally) length. */
export function requireArray<T extends ArtifactArray>(
  artifact: Artifact,
  name: string,
  ctor: { new (length: number): T; prototype: T },
  length?: number,
): T {
  const a = artifact.arrays[name];
  if (!(a instanceof ctor)) {
    throw new ArtifactError(
      `${artifact.header.info.name} artifact: array '${name}' is missing or has the wrong type`,
    );
  }
  if (length !== undefined && a.length !== length) {
    throw new ArtifactError(
      `${artifact.header.info.name} artifact: array '${name}' has ${a.length} entries, expected ${length}`,
    );
  }
  return a;
}
