/**
 * Served lists waiting to be logged, encoded as bytes the moment they are recorded.
 *
 * A list kept as objects until its batch is written lives long enough to be copied into the old
 * generation of the serving thread's heap, whose full collections then pause serving every few
 * seconds. Encoded, a batch is one buffer: the list's objects die young, and the buffer is handed
 * to the writer thread as it is (transferred, not copied).
 *
 * Layout of one list, little-endian: u32 byte length of the rest; id, userId, placement as
 * strings (u32 byte length, UTF-8); servedAt f64; u32 item count n, n item ids as strings, n
 * scores f64; i32 feature name count m (-1: no features), m names as strings, n × m f32 values.
 */
import type { ServedRecommendation } from './recommendation-log.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const INITIAL_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

export class ServedBatchBuilder {
  private bytes = EMPTY;
  private view = new DataView(EMPTY.buffer);
  private length = 0;
  private lists = 0;

  /** Lists added so far. */
  get count(): number {
    return this.lists;
  }

  /** Encodes one list (a copy: the caller may change it afterwards). */
  add(served: ServedRecommendation): void {
    const start = this.length;
    this.u32(0);
    this.str(served.id);
    this.str(served.userId);
    this.str(served.placement);
    this.f64(served.servedAt);
    const n = served.items.length;
    this.u32(n);
    for (let i = 0; i < n; i++) this.str(served.items[i]);
    for (let i = 0; i < n; i++) this.f64(served.scores[i]);
    const features = served.features;
    if (features === null) {
      this.i32(-1);
    } else {
      this.i32(features.names.length);
      for (const name of features.names) this.str(name);
      const values = features.rows;
      this.reserve(values.byteLength);
      this.bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), this.length);
      this.length += values.byteLength;
    }
    this.view.setUint32(start, this.length - start - 4, true);
    this.lists++;
  }

  /** The list recorded under `id` (the last one when several were), or null. */
  find(id: string): ServedRecommendation | null {
    let found: ServedRecommendation | null = null;
    for (const served of decodeServedBatch(this.bytes.subarray(0, this.length)))
      if (served.id === id) found = served;
    return found;
  }

  /** The encoded lists, whose buffer is the caller's from now on; the builder is empty afterwards. */
  take(): Uint8Array {
    const out = this.bytes.subarray(0, this.length);
    this.bytes = EMPTY;
    this.view = new DataView(EMPTY.buffer);
    this.length = 0;
    this.lists = 0;
    return out;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = Math.max(INITIAL_BYTES, this.bytes.length * 2);
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  private u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  private i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  private f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  private str(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.reserve(4 + 3 * s.length);
    const { written } = encoder.encodeInto(s, this.bytes.subarray(this.length + 4));
    this.view.setUint32(this.length, written, true);
    this.length += 4 + written;
  }
}

/** Every list of an encoded batch, in recording order. */
export function decodeServedBatch(bytes: Uint8Array): ServedRecommendation[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const str = (): string => {
    const n = view.getUint32(at, true);
    const s = decoder.decode(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
    return s;
  };
  const out: ServedRecommendation[] = [];
  while (at < bytes.length) {
    const end = at + 4 + view.getUint32(at, true);
    at += 4;
    const id = str();
    const userId = str();
    const placement = str();
    const servedAt = view.getFloat64(at, true);
    at += 8;
    const n = view.getUint32(at, true);
    at += 4;
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(str());
    const scores: number[] = [];
    for (let i = 0; i < n; i++, at += 8) scores.push(view.getFloat64(at, true));
    const m = view.getInt32(at, true);
    at += 4;
    let features: ServedRecommendation['features'] = null;
    if (m >= 0) {
      const names: string[] = [];
      for (let f = 0; f < m; f++) names.push(str());
      // Copied out: the values need not be aligned for a Float32Array in place.
      const rows = new Float32Array(bytes.slice(at, at + n * m * 4).buffer);
      at += n * m * 4;
      features = { names, rows };
    }
    if (at !== end) throw new Error(`served batch is corrupt: a list ends at byte ${at}, not ${end}`);
    out.push({ id, userId, placement, servedAt, items, scores, features });
  }
  return out;
}
