/**
 * Synthetic interaction files for benchmarks: `user \t item \t value \t timestamp` lines (the
 * MovieLens u.data layout, timestamps in epoch seconds), users uniform, item popularity
 * following a power law r^-0.8 over a random permutation of the item ids.
 */
import { open } from 'node:fs/promises';
import { Rng } from './prng.js';

export interface SyntheticOptions {
  /** Distinct users (ids 1..users). */
  users: number;
  /** Distinct items (ids 1..items). */
  items: number;
  /** Lines to write. */
  events: number;
  seed?: number;
  /** Popularity exponent: the r-th most popular item is drawn ∝ r^-exponent. Default 0.8. */
  exponent?: number;
  /** First timestamp (epoch seconds). Default 2024-01-01T00:00:00Z. */
  startSeconds?: number;
  /** Time covered by the events. Default 365 days. */
  spanSeconds?: number;
}

export interface SyntheticResult {
  lines: number;
  bytes: number;
  seconds: number;
}

const LINES_PER_WRITE = 65_536;
const TAB = 9;
const NEWLINE = 10;
const ZERO = 48;

/** Writes the decimal digits of a non-negative integer at `pos`; returns the position after them. */
function writeDigits(buffer: Buffer, pos: number, n: number): number {
  if (n < 10) {
    buffer[pos] = ZERO + n;
    return pos + 1;
  }
  if (n > 0x7fffffff) {
    const digits = String(n);
    buffer.write(digits, pos, 'latin1');
    return pos + digits.length;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
  let p = pos + digits;
  for (let t = n | 0; t > 0;) {
    const q = (t / 10) | 0;
    buffer[--p] = ZERO + t - q * 10;
    t = q;
  }
  return pos + digits;
}

/**
 * Sampler of ranks 0..n-1 with P(rank r) ∝ (r+1)^-s. Draws x from the density ∝ x^-s on
 * [0.5, n + 0.5) by inverting its cumulative distribution and rounds it, so each rank gets the
 * integral over [r+0.5, r+1.5), a close midpoint estimate of the discrete weight (O(1) per draw).
 */
export function powerLawSampler(n: number, s: number): (u: number) => number {
  const clamp = (x: number) => {
    const k = Math.floor(x - 0.5);
    return k < 0 ? 0 : k >= n ? n - 1 : k;
  };
  if (Math.abs(1 - s) < 1e-9) {
    const lo = Math.log(0.5);
    const width = Math.log(n + 0.5) - lo;
    return (u) => clamp(Math.exp(lo + u * width));
  }
  const a = 1 - s;
  const lo = Math.pow(0.5, a);
  const width = Math.pow(n + 0.5, a) - lo;
  const inv = 1 / a;
  return (u) => clamp(Math.pow(lo + u * width, inv));
}

/** Writes the file; returns what was written. */
export async function writeSyntheticEventsFile(
  path: string,
  options: SyntheticOptions,
): Promise<SyntheticResult> {
  const started = performance.now();
  const { users, items, events } = options;
  if (!(users >= 1 && items >= 1 && events >= 0))
    throw new RangeError('users and items must be >= 1, events >= 0');
  const rng = new Rng(options.seed ?? 1);
  const rankOf = powerLawSampler(items, options.exponent ?? 0.8);
  const start = Math.floor(options.startSeconds ?? Date.UTC(2024, 0, 1) / 1000);
  const span = options.spanSeconds ?? 365 * 86_400;

  // rank → item id, so that popular items are scattered over the id range
  const itemOfRank = new Int32Array(items);
  for (let i = 0; i < items; i++) itemOfRank[i] = i + 1;
  rng.shuffle(itemOfRank);

  const file = await open(path, 'w');
  // Longest line: three integers below 2^53 (16 digits each) and a one-digit value.
  const buffer = Buffer.allocUnsafe(LINES_PER_WRITE * 56);
  let bytes = 0;
  try {
    const step = events > 0 ? span / events : 0;
    for (let done = 0; done < events;) {
      const n = Math.min(LINES_PER_WRITE, events - done);
      let pos = 0;
      for (let k = 0; k < n; k++) {
        const i = done + k;
        pos = writeDigits(buffer, pos, 1 + Math.floor(rng.next() * users));
        buffer[pos++] = TAB;
        pos = writeDigits(buffer, pos, itemOfRank[rankOf(rng.next())]);
        buffer[pos++] = TAB;
        buffer[pos++] = ZERO + 1 + Math.floor(rng.next() * 5);
        buffer[pos++] = TAB;
        pos = writeDigits(buffer, pos, start + Math.floor(i * step));
        buffer[pos++] = NEWLINE;
      }
      await file.write(buffer, 0, pos);
      bytes += pos;
      done += n;
    }
  } finally {
    await file.close();
  }
  return { lines: events, bytes, seconds: (performance.now() - started) / 1000 };
}
