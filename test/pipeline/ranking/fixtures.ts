/** Hand-made catalogues, requests and candidate sets for the ranking tests. */
import { buildCatalog, type Catalog } from '../../../src/pipeline/catalog.js';
import type { CandidateSet, RequestContext } from '../../../src/pipeline/types.js';
import type { Item, JsonObject } from '../../../src/domain/types.js';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 0, 1);

export interface ItemSpec {
  id: string;
  categories?: string[];
  price?: number;
  publishedAt?: number | null;
  /** false: the id is in the catalogue but no item is stored. */
  stored?: boolean;
}

export function makeCatalog(specs: readonly ItemSpec[]): Catalog {
  const items: Item[] = specs
    .filter((s) => s.stored !== false)
    .map((s) => ({
      id: s.id,
      title: null,
      text: null,
      categories: s.categories ?? [],
      tags: [],
      attributes: s.price === undefined ? ({} as JsonObject) : { price: s.price },
      available: true,
      publishedAt: s.publishedAt ?? null,
      createdAt: T0,
      updatedAt: T0,
    }));
  return buildCatalog(
    specs.map((s) => s.id),
    items,
  );
}

export function makeContext(overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    userId: 'u',
    userIndex: -1,
    history: new Int32Array(0),
    historyWeights: new Float32Array(0),
    historyTimes: new Float64Array(0),
    historyTypes: [],
    session: new Int32Array(0),
    anchorItem: -1,
    cart: new Int32Array(0),
    user: {},
    context: {},
    placement: 'home',
    k: 10,
    now: T0,
    excludeItems: new Int32Array(0),
    includeCategories: null,
    excludeCategories: null,
    debug: false,
    ...overrides,
  };
}

/**
 * A candidate set over `catalogSize` items with `sourceCount` sources: one slot per entry, in
 * order; scores[s] null where source s did not propose the item. Capacity may exceed the size.
 */
export function makeSet(
  catalogSize: number,
  sourceCount: number,
  entries: readonly { item: number; scores: readonly (number | null)[] }[],
  capacity = entries.length,
): CandidateSet {
  const items = new Int32Array(capacity);
  const sources = new Uint32Array(capacity);
  const sourceScores = new Float32Array(sourceCount * capacity).fill(NaN);
  const slotOf = new Int32Array(catalogSize).fill(-1);
  entries.forEach((e, j) => {
    items[j] = e.item;
    slotOf[e.item] = j;
    e.scores.forEach((v, s) => {
      if (v === null) return;
      sources[j] |= 1 << s;
      sourceScores[s * capacity + j] = v;
    });
  });
  return {
    size: entries.length,
    items,
    sources,
    sourceScores,
    score: new Float32Array(capacity).fill(NaN),
    removed: new Uint8Array(capacity),
    slotOf,
  };
}

/** Slots of the set's candidates not removed, best score first (ties by slot). */
export function orderByScore(set: CandidateSet): number[] {
  const slots: number[] = [];
  for (let j = 0; j < set.size; j++) if (set.removed[j] === 0) slots.push(j);
  return slots.sort((a, b) => set.score[b] - set.score[a] || a - b);
}

/** Deterministic uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
