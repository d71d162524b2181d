import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES, type EventType, type Item } from '../../../src/domain/types.js';
import { Rng } from '../../../src/ingest/prng.js';
import { buildCatalog, type Catalog } from '../../../src/pipeline/catalog.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { BlendRanker } from '../../../src/pipeline/ranking/blend-ranker.js';
import { requestContext } from '../../../src/pipeline/request-context.js';
import {
  chainStages,
  ExplorationSource,
  sampleBeta,
} from '../../../src/pipeline/sources/exploration-source.js';
import { RankedListSource } from '../../../src/pipeline/sources/ranked-list-source.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15);
const types = new Map<string, EventType>(DEFAULT_EVENT_TYPES.map((t) => [t.name, t]));

function item(id: string, ageDays: number): Item {
  return {
    id,
    title: id,
    text: null,
    categories: [id.startsWith('new') ? 'new-things' : 'classics'],
    tags: [],
    attributes: {},
    available: true,
    publishedAt: NOW - ageDays * DAY,
    createdAt: NOW - ageDays * DAY,
    updatedAt: NOW,
  };
}

/** 30 old items o0..o29 (popular, best first), fresh items newA, newB, and newShown, fresh but much shown. */
const OLD = Array.from({ length: 30 }, (_, i) => `o${i}`);
const ITEMS = [...OLD.map((id) => item(id, 400)), item('newA', 2), item('newB', 3), item('newShown', 1)];
const ids = ITEMS.map((i) => i.id);

function setup(
  seed: number,
  every = 10,
): { catalog: Catalog; explore: ExplorationSource; pipeline: Pipeline } {
  const catalog = buildCatalog(ids, ITEMS);
  const explore = new ExplorationSource(catalog, { seed, every, maxAgeDays: 14, maxImpressions: 1000 });
  explore.observe(catalog.indexOf.get('newShown')!, 5000, 50);
  const popular = new RankedListSource('popular', {
    items: Int32Array.from(OLD.map((_, i) => i)),
    scores: Float32Array.from(OLD.map((_, i) => 30 - i)),
  });
  const sources = [popular, explore];
  const pipeline = new Pipeline(catalog, {
    placement: 'home',
    sources: sources.map((source) => ({ source, limit: 50 })),
    filters: [],
    ranker: new BlendRanker(catalog, { sources: sources.map((s) => s.name) }),
    diversify: chainStages(undefined, explore.slotReserver(1)),
  });
  return { catalog, explore, pipeline };
}

function serve(
  pipeline: Pipeline,
  catalog: Catalog,
  k: number,
): { itemId: string; sources: string[]; text: string }[] {
  const ctx = requestContext(catalog, [], types, { userId: 'u', placement: 'home', k, now: NOW });
  return pipeline
    .run(ctx)
    .items.map((i) => ({ itemId: i.itemId, sources: i.sources, text: i.explanations[0]?.text ?? '' }));
}

const isNew = (id: string): boolean => id.startsWith('new');

describe('exploration slot for fresh items', () => {
  it('gives fresh items exactly one slot in ten, at the reserved position, explained as new', () => {
    const { catalog, pipeline } = setup(1);
    for (let r = 0; r < 50; r++) {
      const ten = serve(pipeline, catalog, 10);
      expect(ten).toHaveLength(10);
      const fresh = ten.filter((i) => isNew(i.itemId));
      expect(fresh).toHaveLength(1);
      expect(ten[9].itemId).toBe(fresh[0].itemId);
      expect(fresh[0].itemId).not.toBe('newShown'); // shown 5000 times: no longer explored
      expect(fresh[0].text).toBe('New: just added to new-things');
      const twenty = serve(pipeline, catalog, 20);
      expect(twenty.filter((i) => isNew(i.itemId)).map((i) => twenty.indexOf(i))).toEqual([9, 19]);
    }
  });

  it('bounds the share: without the reserved slot the ranker would let both fresh items in', () => {
    const { catalog, explore } = setup(2);
    const sources = [
      new RankedListSource('popular', {
        items: Int32Array.from(OLD.map((_, i) => i)),
        scores: Float32Array.from(OLD.map((_, i) => 30 - i)),
      }),
      explore,
    ];
    const unbounded = new Pipeline(catalog, {
      placement: 'home',
      sources: sources.map((source) => ({ source, limit: 50 })),
      filters: [],
      ranker: new BlendRanker(catalog, { sources: sources.map((s) => s.name) }),
    });
    expect(serve(unbounded, catalog, 10).filter((i) => isNew(i.itemId))).toHaveLength(2);
  });

  it('reserves k / every slots on average for short lists', () => {
    const { explore } = setup(3);
    let total = 0;
    for (let r = 0; r < 4000; r++) total += explore.slotsFor(5);
    expect(total / 4000).toBeGreaterThan(0.47);
    expect(total / 4000).toBeLessThan(0.53);
    expect(explore.slotsFor(30)).toBe(3);
  });

  it('shares the slot between unseen fresh items, then moves it to the better-clicking one', () => {
    const { catalog, explore, pipeline } = setup(4);
    const a = catalog.indexOf.get('newA')!;
    const b = catalog.indexOf.get('newB')!;
    const share = (rounds: number): number => {
      let forB = 0;
      for (let r = 0; r < rounds; r++) if (serve(pipeline, catalog, 10)[9].itemId === 'newB') forB++;
      return forB / rounds;
    };
    const before = share(400);
    expect(before).toBeGreaterThan(0.4);
    expect(before).toBeLessThan(0.6);

    // Feedback as it accrues: newB is clicked 20% of the times it is shown, newA 2%.
    const world = new Rng(99);
    const firstHalf: number[] = [];
    const secondHalf: number[] = [];
    for (let r = 0; r < 600; r++) {
      const shown = serve(pipeline, catalog, 10)[9].itemId;
      const i = shown === 'newA' ? a : b;
      explore.observe(i, 1, world.chance(shown === 'newB' ? 0.2 : 0.02) ? 1 : 0);
      (r < 100 ? firstHalf : r >= 500 ? secondHalf : []).push(shown === 'newB' ? 1 : 0);
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(secondHalf)).toBeGreaterThan(mean(firstHalf));
    expect(mean(secondHalf)).toBeGreaterThan(0.9);
    expect(explore.impressions[b]).toBeGreaterThan(explore.impressions[a]);

    // Observed outright: 200 impressions each, 40 clicks for B, 4 for A.
    const fresh = setup(5);
    fresh.explore.observe(a, 200, 4);
    fresh.explore.observe(b, 200, 40);
    let forB = 0;
    for (let r = 0; r < 200; r++) if (serve(fresh.pipeline, fresh.catalog, 10)[9].itemId === 'newB') forB++;
    expect(forB / 200).toBeGreaterThan(0.95);
  });

  it('gives the same draws for the same seed', () => {
    const one = setup(7);
    const two = setup(7);
    const seq = (s: ReturnType<typeof setup>): string[] =>
      Array.from({ length: 20 }, () => serve(s.pipeline, s.catalog, 10)[9].itemId);
    expect(seq(one)).toEqual(seq(two));
  });

  it('draws Beta(a, b) with mean a / (a + b)', () => {
    const rng = new Rng(11);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) sum += sampleBeta(rng, 3, 12);
    expect(Math.abs(sum / n - 0.2)).toBeLessThan(0.005);
    let small = 0;
    for (let i = 0; i < n; i++) small += sampleBeta(rng, 0.5, 0.5);
    expect(Math.abs(small / n - 0.5)).toBeLessThan(0.01);
  });

  it('counts impression and click events and carries counts over to a new snapshot', () => {
    const { catalog, explore } = setup(8);
    explore.observeEvents({
      length: 4,
      userIds: ['u', 'u', 'v', 'v'],
      itemIds: ['newA', 'newA', 'newA', 'o1'],
      types: ['impression', 'click', 'impression', 'purchase'],
      values: new Float64Array(4).fill(NaN),
      timestamps: new Float64Array(4),
    });
    const a = catalog.indexOf.get('newA')!;
    expect([explore.impressions[a], explore.clicks[a]]).toEqual([2, 1]);
    const next = new ExplorationSource(buildCatalog(['newA', ...ids.filter((id) => id !== 'newA')], ITEMS));
    next.carryOver(explore);
    expect([next.impressions[0], next.clicks[0]]).toEqual([2, 1]);
    expect(next.isFresh(0, NOW)).toBe(true);
    expect(next.isFresh(0, NOW + 30 * DAY)).toBe(false);
  });
});
