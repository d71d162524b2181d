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

/**
 * Distinct (user, item) pairs with learnable structure, for tests and benchmarks at any scale.
 *
 * Each draw picks a user (uniformly, or skewed: the r-th most active of a random order of the
 * users is drawn ∝ r^-userExponent), then an item: with probability `taste` from one of the
 * user's latent tastes (a topic drawn from the user's topic weights, then an item of that
 * topic ∝ its popularity), otherwise from the whole catalogue ∝ popularity (rank r^-exponent
 * over a random order of the items). Items belong to one topic each; users hold weights over
 * one to three topics. Duplicate pairs are dropped and more pairs drawn until exactly
 * `interactions` distinct pairs exist, which is the same as drawing until that many distinct
 * pairs have appeared. Pairs come out in draw order.
 */
export interface InteractionSetOptions {
  users: number;
  items: number;
  /** Distinct (user, item) pairs to produce; at most half of users x items. */
  interactions: number;
  seed?: number;
  /** Item popularity exponent (default 0.8). */
  exponent?: number;
  /** User activity exponent; 0 draws users uniformly (default 0.5). */
  userExponent?: number;
  /** Latent topics; 0 for none (default 16). */
  topics?: number;
  /** Share of draws made from the user's topics, 0..1 (default 0.8). */
  taste?: number;
  /**
   * `ones`: every value 1; `ratings` (default): 1..5, where draws from the user's tastes rate
   * 3..5 and the others 1..5 uniformly.
   */
  values?: 'ones' | 'ratings';
  /** Called with the distinct pairs so far and the target. */
  onProgress?: (done: number, total: number) => void;
}

export interface InteractionSet {
  users: number;
  items: number;
  /** User index (0-based) of each pair. */
  user: Int32Array;
  /** Item index (0-based) of each pair. */
  item: Int32Array;
  value: Float32Array;
  length: number;
  /** Draws made, duplicates included. */
  draws: number;
}

/** Protocol B3 of the benchmarks: 200,000 users x 50,000 items x 20,000,000 distinct pairs of value 1. */
export const B3_PRESET = {
  users: 200_000,
  items: 50_000,
  interactions: 20_000_000,
  exponent: 0.8,
  userExponent: 0,
  topics: 0,
  values: 'ones',
  seed: 1,
} as const satisfies InteractionSetOptions;

/**
 * Exact sampler over a discrete distribution with a guide table: O(n) set-up, O(1) expected
 * per draw. Several distributions can share the arrays, each on its own range [start, end).
 */
class GuideSampler {
  /** Cumulative weights, normalised to end at 1 within each range. */
  private readonly cdf: Float64Array;
  /** guide[start + g]: the first index whose cumulative weight exceeds g / n. */
  private readonly guide: Int32Array;

  constructor(
    weights: Float64Array,
    private readonly starts: Int32Array,
  ) {
    const n = weights.length;
    this.cdf = new Float64Array(n);
    this.guide = new Int32Array(n);
    for (let r = 0; r + 1 < starts.length; r++) {
      const start = starts[r];
      const end = starts[r + 1];
      let total = 0;
      for (let j = start; j < end; j++) total += weights[j];
      let acc = 0;
      for (let j = start; j < end; j++) this.cdf[j] = (acc += weights[j]) / total;
      if (end > start) this.cdf[end - 1] = 1;
      const size = end - start;
      let j = start;
      for (let g = 0; g < size; g++) {
        while (j < end - 1 && this.cdf[j] <= g / size) j++;
        this.guide[start + g] = j;
      }
    }
  }

  /** Index (relative to the range start) drawn from range `r` with uniform `u` in [0, 1). */
  draw(r: number, u: number): number {
    const start = this.starts[r];
    const size = this.starts[r + 1] - start;
    let j = this.guide[start + Math.floor(u * size)];
    const cdf = this.cdf;
    const last = start + size - 1;
    while (j < last && cdf[j] <= u) j++;
    return j - start;
  }
}

/** Power-law weights (rank + 1)^-s over each range of `starts`. */
function powerWeights(starts: Int32Array, s: number): Float64Array {
  const w = new Float64Array(starts[starts.length - 1]);
  for (let r = 0; r + 1 < starts.length; r++) {
    for (let j = starts[r]; j < starts[r + 1]; j++) w[j] = Math.pow(j - starts[r] + 1, -s);
  }
  return w;
}

/** Grows an array to hold at least `n` elements, keeping the first `used`. */
function grown<T extends Int32Array | Float32Array>(a: T, n: number, used: number): T {
  if (n <= a.length) return a;
  const ctor = a.constructor as new (length: number) => T;
  const b = new ctor(Math.max(n, Math.ceil(a.length * 1.25)));
  b.set(a.subarray(0, used));
  return b;
}

/** Draws pairs and keeps the distinct ones; see InteractionSetOptions. */
export function generateInteractions(options: InteractionSetOptions): InteractionSet {
  const { users, items, interactions: target } = options;
  if (!(Number.isInteger(users) && users >= 1 && Number.isInteger(items) && items >= 1)) {
    throw new RangeError('users and items must be positive integers');
  }
  if (!(Number.isInteger(target) && target >= 0 && target <= (users * items) / 2)) {
    throw new RangeError(
      `interactions must be an integer in 0..${Math.floor((users * items) / 2)} (half of users x items)`,
    );
  }
  const rng = new Rng(options.seed ?? 1);
  const topics = Math.max(0, Math.min(options.topics ?? 16, items));
  const taste = topics > 0 ? Math.min(1, Math.max(0, options.taste ?? 0.8)) : 0;
  const ratings = (options.values ?? 'ratings') === 'ratings';
  const userExponent = options.userExponent ?? 0.5;
  const exponent = options.exponent ?? 0.8;

  // Item popularity: rank → item, random order.
  const itemOfRank = new Int32Array(items);
  for (let i = 0; i < items; i++) itemOfRank[i] = i;
  rng.shuffle(itemOfRank);
  const whole = Int32Array.from([0, items]);
  const popularity = new GuideSampler(powerWeights(whole, exponent), whole);

  // User activity over a random order of the users (null: uniform).
  let activity: GuideSampler | null = null;
  const userOfRank = new Int32Array(userExponent > 0 ? users : 0);
  if (userExponent > 0) {
    for (let u = 0; u < users; u++) userOfRank[u] = u;
    rng.shuffle(userOfRank);
    const all = Int32Array.from([0, users]);
    activity = new GuideSampler(powerWeights(all, userExponent), all);
  }

  // Topics: each item joins one; within a topic items keep their global popularity order.
  const topicStart = new Int32Array(topics + 1);
  const topicItems = new Int32Array(topics > 0 ? items : 0);
  let topicSampler: GuideSampler | null = null;
  // Per user: cumulative weights over the topics.
  const userTopics = new Float32Array(topics > 0 ? users * topics : 0);
  if (topics > 0) {
    const topicOf = new Int32Array(items);
    for (let i = 0; i < items; i++) topicStart[(topicOf[i] = rng.int(topics)) + 1]++;
    for (let t = 0; t < topics; t++) topicStart[t + 1] += topicStart[t];
    const next = topicStart.slice(0, topics);
    for (let r = 0; r < items; r++) {
      const i = itemOfRank[r];
      topicItems[next[topicOf[i]]++] = i;
    }
    topicSampler = new GuideSampler(powerWeights(topicStart, exponent), topicStart);
    for (let u = 0; u < users; u++) {
      const base = u * topics;
      const favourites = 1 + rng.int(3);
      let total = 0;
      for (let f = 0; f < favourites; f++) {
        const w = -Math.log(1 - rng.next());
        userTopics[base + rng.int(topics)] += w;
        total += w;
      }
      let acc = 0;
      for (let t = 0; t < topics; t++) userTopics[base + t] = acc += userTopics[base + t] / total;
      userTopics[base + topics - 1] = 1;
    }
  }

  let drawUser = new Int32Array(Math.max(16, Math.ceil(target * 1.06)));
  let drawItem = new Int32Array(drawUser.length);
  let drawValue = new Float32Array(drawUser.length);
  let draws = 0;

  const drawMore = (count: number): void => {
    drawUser = grown(drawUser, draws + count, draws);
    drawItem = grown(drawItem, draws + count, draws);
    drawValue = grown(drawValue, draws + count, draws);
    const du = drawUser;
    const di = drawItem;
    const dv = drawValue;
    for (let d = draws, end = draws + count; d < end; d++) {
      const u = activity ? userOfRank[activity.draw(0, rng.next())] : rng.int(users);
      let item: number;
      let value = 1;
      if (topicSampler && rng.next() < taste) {
        const x = rng.next();
        const base = u * topics;
        let t = 0;
        while (t < topics - 1 && userTopics[base + t] <= x) t++;
        item =
          topicStart[t + 1] > topicStart[t]
            ? topicItems[topicStart[t] + topicSampler.draw(t, rng.next())]
            : itemOfRank[popularity.draw(0, rng.next())];
        if (ratings) value = 3 + rng.int(3);
      } else {
        item = itemOfRank[popularity.draw(0, rng.next())];
        if (ratings) value = 1 + rng.int(5);
      }
      du[d] = u;
      di[d] = item;
      dv[d] = value;
    }
    draws += count;
  };

  // Distinct pairs so far, grouped by user (rowItems[rowStart[u] .. rowStart[u + 1])).
  let rowStart = new Int32Array(users + 1);
  let rowItems = new Int32Array(0);
  let distinct = 0;
  let kept = new Uint8Array(0);
  const stamp = new Int32Array(items);

  /** Keeps the draws in [from, draws) whose pair is new, in draw order. */
  const accept = (from: number): void => {
    const du = drawUser;
    const di = drawItem;
    const m = draws - from;
    const grownKept = new Uint8Array(draws);
    grownKept.set(kept);
    kept = grownKept;
    const start = new Int32Array(users + 1);
    for (let d = from; d < draws; d++) start[du[d] + 1]++;
    for (let u = 0; u < users; u++) start[u + 1] += start[u];
    const order = new Int32Array(m);
    const next = start.slice(0, users);
    for (let d = from; d < draws; d++) order[next[du[d]]++] = d;
    stamp.fill(-1);
    const added = new Int32Array(users + 1);
    for (let u = 0; u < users; u++) {
      const pStart = start[u];
      const pEnd = start[u + 1];
      if (pStart === pEnd) continue;
      for (let p = rowStart[u], end = rowStart[u + 1]; p < end; p++) stamp[rowItems[p]] = u;
      for (let p = pStart; p < pEnd; p++) {
        const d = order[p];
        const i = di[d];
        if (stamp[i] === u) continue;
        stamp[i] = u;
        kept[d] = 1;
        added[u + 1]++;
      }
    }
    // Merge the accepted pairs into the rows.
    const newStart = new Int32Array(users + 1);
    for (let u = 0; u < users; u++)
      newStart[u + 1] = newStart[u] + (rowStart[u + 1] - rowStart[u]) + added[u + 1];
    const newItems = new Int32Array(newStart[users]);
    for (let u = 0; u < users; u++) {
      let w = newStart[u];
      for (let p = rowStart[u], end = rowStart[u + 1]; p < end; p++) newItems[w++] = rowItems[p];
      for (let p = start[u], end = start[u + 1]; p < end; p++) {
        const d = order[p];
        if (kept[d] === 1) newItems[w++] = di[d];
      }
    }
    rowStart = newStart;
    rowItems = newItems;
    distinct = newStart[users];
  };

  drawMore(target);
  accept(0);
  options.onProgress?.(distinct, target);
  for (let round = 0; distinct < target; round++) {
    if (round > 100_000) throw new Error('could not reach the requested number of distinct pairs');
    const from = draws;
    drawMore(target - distinct);
    accept(from);
    options.onProgress?.(distinct, target);
  }

  const user = new Int32Array(target);
  const item = new Int32Array(target);
  const value = new Float32Array(target);
  let n = 0;
  for (let d = 0; d < draws; d++) {
    if (kept[d] === 0) continue;
    user[n] = drawUser[d];
    item[n] = drawItem[d];
    value[n] = drawValue[d];
    n++;
  }
  return { users, items, user, item, value, length: n, draws };
}

export interface InteractionFileOptions {
  /** First timestamp (epoch seconds). Default 2024-01-01T00:00:00Z. */
  startSeconds?: number;
  /** Time covered by the pairs, spread evenly in draw order. Default 365 days. */
  spanSeconds?: number;
  /** Called with the lines written so far. */
  onProgress?: (done: number) => void;
}

/**
 * Writes `user \t item \t value \t timestamp` lines (ids 1-based, timestamps in epoch seconds,
 * values with up to 6 decimals); returns what was written.
 */
export async function writeInteractionsTsv(
  path: string,
  set: InteractionSet,
  options: InteractionFileOptions = {},
): Promise<SyntheticResult> {
  const started = performance.now();
  const start = Math.floor(options.startSeconds ?? Date.UTC(2024, 0, 1) / 1000);
  const span = options.spanSeconds ?? 365 * 86_400;
  const step = set.length > 0 ? span / set.length : 0;
  const file = await open(path, 'w');
  const buffer = Buffer.allocUnsafe(LINES_PER_WRITE * 72);
  let bytes = 0;
  try {
    for (let done = 0; done < set.length;) {
      const n = Math.min(LINES_PER_WRITE, set.length - done);
      let pos = 0;
      for (let k = 0; k < n; k++) {
        const e = done + k;
        pos = writeDigits(buffer, pos, set.user[e] + 1);
        buffer[pos++] = TAB;
        pos = writeDigits(buffer, pos, set.item[e] + 1);
        buffer[pos++] = TAB;
        const v = set.value[e];
        if (Number.isInteger(v) && v >= 0) pos = writeDigits(buffer, pos, v);
        else pos += buffer.write(String(Math.round(v * 1e6) / 1e6), pos, 'latin1');
        buffer[pos++] = TAB;
        pos = writeDigits(buffer, pos, start + Math.floor(e * step));
        buffer[pos++] = NEWLINE;
      }
      await file.write(buffer, 0, pos);
      bytes += pos;
      done += n;
      options.onProgress?.(done);
    }
  } finally {
    await file.close();
  }
  return { lines: set.length, bytes, seconds: (performance.now() - started) / 1000 };
}
