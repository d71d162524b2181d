/**
 * Exact feature values as of a moving point in time, over an EventTable.
 *
 * `advanceTo(t)` moves forward in time: events with timestamp < t are added (strictly before:
 * an event at the same millisecond as the point in time does not count), and for each distinct
 * window length W the events with timestamp < t - W are subtracted again, so a windowed feature
 * covers [t - W, t). Events are swept once in time order with one add pointer and one remove
 * pointer per window length; no per-query rescan. Times must not go backwards.
 *
 * The per-event arithmetic is that of compiled-feature.ts, specialised here for speed: affinity
 * features sharing a window and event types share one total and touch only the item's categories.
 */
import { featureValue, type CompiledFeature } from './compiled-feature.js';
import type { EventTable } from './event-table.js';

const COUNT = 0;
const STRENGTH = 1;
const PRICE_MEAN = 2;
const CTR = 3;

/** Affinity features with the same window and event types. */
interface AffinityGroup {
  mask: Uint8Array;
  /** Feature index by category index, -1 when none. */
  byCategory: Int32Array;
  /** Strength per user over the window: the shared denominator (s1 of every member). */
  total: Float64Array;
}

/** What one sweep (the add pointer, or the remove pointer of one window) updates. */
interface Part {
  /** Features of kinds count, strength, price-mean, ctr. */
  sums: number[];
  affinity: AffinityGroup[];
}

interface WindowCursor {
  ms: number;
  next: number;
  part: Part;
}

function entitySelector(f: CompiledFeature): number {
  return f.entity === 'user' ? 0 : f.entity === 'item' ? 1 : 2;
}

export class PointInTimeEngine {
  readonly features: readonly CompiledFeature[];
  private readonly s0: Float64Array[];
  private readonly s1: Float64Array[];
  private readonly code: Int8Array;
  private readonly selector: Int8Array;
  private readonly masks: Uint8Array[];
  private readonly denominators: Uint8Array[];
  private readonly all: Part = { sums: [], affinity: [] };
  private readonly recency: number[] = [];
  private readonly age: number[] = [];
  private readonly windows: WindowCursor[] = [];
  private readonly price: Float64Array;
  private readonly catStart: Int32Array;
  private readonly catList: Int32Array;
  private nextAdd = 0;
  private now = -Infinity;

  constructor(
    private readonly table: EventTable,
    features: readonly CompiledFeature[],
  ) {
    this.features = features;
    const catalog = table.catalog;
    const nItems = catalog.items.size;
    this.price = Float64Array.from(catalog.price.slice(0, nItems));
    this.catStart = new Int32Array(nItems + 1);
    const cats: number[] = [];
    for (let i = 0; i < nItems; i++) {
      for (const c of catalog.itemCategories[i]) cats.push(c);
      this.catStart[i + 1] = cats.length;
    }
    this.catList = Int32Array.from(cats);
    const size = (f: CompiledFeature) =>
      f.entity === 'user' ? table.users.size : f.entity === 'item' ? nItems : table.pairUser.length;

    this.code = new Int8Array(features.length).fill(-1);
    this.selector = Int8Array.from(features.map(entitySelector));
    this.masks = features.map((f) => f.mask);
    this.denominators = features.map((f) => f.denominator ?? new Uint8Array(1));
    this.s0 = features.map((f) => {
      const a = new Float64Array(f.kind === 'price' ? 0 : size(f));
      if (f.kind === 'recency' || f.kind === 'age') a.fill(NaN);
      return a;
    });
    this.s1 = features.map(() => new Float64Array(0));

    const windowPart = (ms: number | null): Part => {
      if (ms === null) return this.all;
      let w = this.windows.find((c) => c.ms === ms);
      if (!w) this.windows.push((w = { ms, next: 0, part: { sums: [], affinity: [] } }));
      return w.part;
    };
    const groups = new Map<string, AffinityGroup>();
    const nCats = Math.max(catalog.categories.size, 1);
    features.forEach((f, i) => {
      switch (f.kind) {
        case 'count':
        case 'strength':
        case 'price-mean':
        case 'ctr':
          this.code[i] = { count: COUNT, strength: STRENGTH, 'price-mean': PRICE_MEAN, ctr: CTR }[f.kind];
          this.s1[i] = new Float64Array(size(f));
          this.all.sums.push(i);
          if (f.windowMs !== null) windowPart(f.windowMs).sums.push(i);
          return;
        case 'recency':
          this.recency.push(i);
          return;
        case 'age':
          this.age.push(i);
          return;
        case 'affinity': {
          const key = `${f.windowMs}|${f.mask.join('')}`;
          let g = groups.get(key);
          if (!g) {
            g = {
              mask: f.mask,
              byCategory: new Int32Array(nCats).fill(-1),
              total: new Float64Array(size(f)),
            };
            groups.set(key, g);
            this.all.affinity.push(g);
            if (f.windowMs !== null) windowPart(f.windowMs).affinity.push(g);
          }
          if (f.category >= 0 && f.category < nCats && g.byCategory[f.category] < 0)
            g.byCategory[f.category] = i;
          this.s1[i] = g.total;
          return;
        }
        case 'price':
          return;
      }
    });
    // a category named by two affinity features of one group: give the second its own sums
    features.forEach((f, i) => {
      if (f.kind !== 'affinity') return;
      const g = [...groups.values()].find((x) => x.total === this.s1[i])!;
      if (g.byCategory[f.category] !== i) {
        const first = g.byCategory[f.category];
        this.s0[i] = this.s0[first];
      }
    });
  }

  /** The current point in time. */
  get time(): number {
    return this.now;
  }

  /** Moves the point in time forward to `t`. */
  advanceTo(t: number): void {
    if (t < this.now) throw new RangeError(`cannot move back in time from ${this.now} to ${t}`);
    this.now = t;
    const { time, type, user, pair } = this.table;
    const n = this.table.length;
    let e = this.nextAdd;
    while (e < n && time[e] < t) {
      this.apply(this.all, e, 1);
      const ty = type[e];
      for (const f of this.recency) {
        if (this.masks[f][ty] === 1) this.s0[f][this.selector[f] === 0 ? user[e] : pair[e]] = time[e];
      }
      for (const f of this.age) {
        const s = this.s0[f];
        const it = this.table.item[e];
        if (!(s[it] === s[it])) s[it] = time[e];
      }
      e++;
    }
    this.nextAdd = e;
    for (const w of this.windows) {
      const start = t - w.ms;
      let r = w.next;
      while (r < e && time[r] < start) this.apply(w.part, r++, -1);
      w.next = r;
    }
  }

  private apply(part: Part, e: number, sign: number): void {
    const table = this.table;
    const ty = table.type[e];
    const u = table.user[e];
    const it = table.item[e];
    const st = table.strength[e];
    const sums = part.sums;
    for (let k = 0; k < sums.length; k++) {
      const f = sums[k];
      const sel = this.selector[f];
      const ent = sel === 0 ? u : sel === 1 ? it : table.pair[e];
      const counted = this.masks[f][ty] === 1;
      switch (this.code[f]) {
        case COUNT:
          if (counted) this.s0[f][ent] += sign;
          break;
        case STRENGTH:
          if (counted) this.s0[f][ent] += sign * st;
          break;
        case PRICE_MEAN: {
          const p = this.price[it];
          if (counted && p === p) {
            this.s0[f][ent] += sign * p;
            this.s1[f][ent] += sign;
          }
          break;
        }
        case CTR:
          if (counted) this.s0[f][ent] += sign;
          if (this.denominators[f][ty] === 1) this.s1[f][ent] += sign;
          break;
      }
    }
    const groups = part.affinity;
    for (let k = 0; k < groups.length; k++) {
      const g = groups[k];
      if (g.mask[ty] !== 1 || st === 0) continue;
      g.total[u] += sign * st;
      for (let c = this.catStart[it]; c < this.catStart[it + 1]; c++) {
        const f = g.byCategory[this.catList[c]];
        if (f >= 0) this.s0[f][u] += sign * st;
      }
    }
  }

  /**
   * Value of feature `fi` at the current time for the entity: `user`, `item` and `pair` are dense
   * indices (-1: unknown, giving the value of an entity without events).
   */
  value(fi: number, user: number, item: number, pair: number): number {
    const f = this.features[fi];
    const sel = this.selector[fi];
    const entity = sel === 0 ? user : sel === 1 ? item : pair;
    const timeKind = f.kind === 'recency' || f.kind === 'age';
    let s0 = timeKind ? NaN : 0;
    let s1 = 0;
    if (entity >= 0 && f.kind !== 'price') {
      s0 = this.s0[fi][entity];
      if (!timeKind) s1 = this.s1[fi][entity];
    }
    return featureValue(f, s0, s1, this.now, item, this.table.catalog);
  }
}
