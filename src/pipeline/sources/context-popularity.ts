/**
 * Popularity within the request's context: what is popular at this time of day, and on this
 * device. Counts decay with a half-life so the lists follow the present; they are fed by every
 * acknowledged event (time of day from the event time, device from `context.device`) and seeded
 * with the stored events' times at start.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateSource, Explanation, RequestContext } from '../types.js';
import { TopPicker } from './top.js';

/** Parts of the day, in UTC hours: night 0–5, morning 6–11, afternoon 12–17, evening 18–23. */
export const DAY_PARTS = ['night', 'morning', 'afternoon', 'evening'] as const;

export function dayPart(time: number, utcOffsetMinutes = 0): (typeof DAY_PARTS)[number] {
  const hour = Math.floor((((time + utcOffsetMinutes * 60_000) / 3_600_000) % 24) + 24) % 24;
  return DAY_PARTS[Math.floor(hour / 6)];
}

export interface ContextPopularityOptions {
  /** Counts halve after this many days (default 14). */
  halfLifeDays?: number;
  utcOffsetMinutes?: number;
  /** Distinct device values tracked (default 16; more are ignored). */
  maxDevices?: number;
}

/** Decayed counts per context value and item. */
export class ContextPopularity {
  private readonly counts = new Map<string, Float64Array>();
  private readonly decayPerMs: number;
  private readonly maxDevices: number;
  private devices = 0;
  /** Counts are stored scaled to this time: a count at t weighs 2^((t − epoch)/halfLife). */
  private readonly epoch: number;

  constructor(
    readonly size: number,
    private readonly options: ContextPopularityOptions = {},
    now = Date.now(),
  ) {
    this.decayPerMs = Math.LN2 / ((options.halfLifeDays ?? 14) * 86_400_000);
    this.maxDevices = options.maxDevices ?? 16;
    this.epoch = now;
  }

  private row(key: string, create: boolean): Float64Array | null {
    let r = this.counts.get(key);
    if (!r && create) {
      if (key.startsWith('device:')) {
        if (this.devices >= this.maxDevices) return null;
        this.devices++;
      }
      r = new Float64Array(this.size);
      this.counts.set(key, r);
    }
    return r ?? null;
  }

  /** Counts one interaction with an item at a time, on a device when known. */
  observe(item: number, time: number, device?: string | null): void {
    if (item < 0 || item >= this.size || !Number.isFinite(time)) return;
    const w = Math.exp(Math.min(50, (time - this.epoch) * this.decayPerMs));
    const part = this.row(`part:${dayPart(time, this.options.utcOffsetMinutes)}`, true);
    if (part) part[item] += w;
    if (device) {
      const d = this.row(`device:${device}`, true);
      if (d) d[item] += w;
    }
  }

  /** The decayed counts of a context value (`part:morning`, `device:mobile`), or null. */
  scores(key: string): Float64Array | null {
    return this.row(key, false);
  }
}

/** Proposes what is popular in the request's part of the day and on its device. */
export class ContextPopularitySource implements CandidateSource {
  private readonly picker = new TopPicker();
  private readonly buffer: Float32Array;

  constructor(
    readonly name: string,
    private readonly popularity: ContextPopularity,
    private readonly catalog: Catalog,
  ) {
    this.buffer = new Float32Array(popularity.size);
  }

  private keys(ctx: RequestContext): string[] {
    const keys = [`part:${dayPart(ctx.now)}`];
    const device = ctx.context.device;
    if (typeof device === 'string' && device.length > 0) keys.push(`device:${device}`);
    return keys;
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const rows = this.keys(ctx)
      .map((k) => this.popularity.scores(k))
      .filter((r): r is Float64Array => r !== null);
    if (rows.length === 0) return 0;
    const out = this.buffer;
    // Each context's counts as a share of its total, summed: part of day and device weigh alike.
    out.fill(0);
    for (const r of rows) {
      let total = 0;
      for (let i = 0; i < r.length; i++) total += r[i];
      if (total > 0) for (let i = 0; i < r.length; i++) out[i] += r[i] / total;
    }
    for (let i = 0; i < out.length; i++) if (!(out[i] > 0) || !this.catalog.available[i]) out[i] = -Infinity;
    return this.picker.fromScores(out, limit, add);
  }

  explain(ctx: RequestContext): Explanation | null {
    const device = ctx.context.device;
    return typeof device === 'string' && device.length > 0
      ? { kind: 'popular-in-context', text: `Popular on ${device} this ${dayPart(ctx.now)}` }
      : { kind: 'popular-in-context', text: `Popular this ${dayPart(ctx.now)}` };
  }
}
