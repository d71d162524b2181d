/**
 * A neighbours source explains an item by the seed generate found most similar to it, the same
 * seed a fresh search over the seeds' neighbour lists finds.
 */
import { describe, expect, it } from 'vitest';
import type { Recommender, TopK } from '../../../src/models/model.js';
import { NeighboursSource, type NeighbourSeeds } from '../../../src/pipeline/sources/neighbours-source.js';
import type { ItemNames, RequestContext } from '../../../src/pipeline/types.js';
import { makeContext, rng } from '../ranking/fixtures.js';

const ITEMS = 60;

/** Random neighbour lists with coarse similarities (ties are common), some zero or negative. */
function neighbourModel(seed: number): Recommender {
  const r = rng(seed);
  const lists = Array.from({ length: ITEMS }, (_, item) => {
    const indices: number[] = [];
    const scores: number[] = [];
    for (let j = 0; j < 12; j++) {
      const other = Math.floor(r() * ITEMS);
      if (other === item || indices.includes(other)) continue;
      indices.push(other);
      scores.push(Math.round((r() - 0.15) * 4) / 4);
    }
    return { indices: Int32Array.from(indices), scores: Float32Array.from(scores) };
  });
  return {
    itemIds: Array.from({ length: ITEMS }, (_, i) => `i${i}`),
    similarItems: (item: number, k: number): TopK | null =>
      item >= 0 && item < ITEMS && item % 11 !== 5
        ? { indices: lists[item].indices.slice(0, k), scores: lists[item].scores.slice(0, k) }
        : null,
  } as unknown as Recommender;
}

const names: ItemNames = { itemId: (i) => `i${i}`, title: (i) => `Item ${i}`, category: () => null };

/** A copy of the request (another object), so the source has no generate to read back. */
function copyOf(ctx: RequestContext): RequestContext {
  return { ...ctx, history: ctx.history.slice(), session: ctx.session.slice(), cart: ctx.cart.slice() };
}

describe('NeighboursSource.explain', () => {
  for (const seeds of ['history', 'session', 'anchor', 'cart'] as NeighbourSeeds[]) {
    it(`names the seed a fresh search names (${seeds} seeds)`, () => {
      for (let seed = 1; seed <= 15; seed++) {
        const r = rng(100 + seed);
        const model = neighbourModel(seed);
        const source = new NeighboursSource('n', model, { seeds, recent: 6, perItem: 8 });
        const history = Int32Array.from({ length: 10 }, () => Math.floor(r() * ITEMS));
        const ctx = makeContext({
          history,
          session: history.subarray(0, 4),
          cart: history.subarray(2, 5),
          anchorItem: history[0],
        });
        source.generate(ctx, 20, () => undefined);
        // A second source of the same model in between must not disturb what this one recorded.
        new NeighboursSource('m', model).generate(copyOf(ctx), 5, () => undefined);
        const fresh = copyOf(ctx);
        for (let item = -1; item <= ITEMS; item++) {
          expect(source.explain(ctx, item, names), `seed ${seed}, item ${item}`).toEqual(
            source.explain(fresh, item, names),
          );
        }
      }
    });
  }

  it('reads back only the request it generated for last', () => {
    const model = neighbourModel(2);
    const source = new NeighboursSource('n', model, { recent: 3 });
    const first = makeContext({ history: Int32Array.from([1, 2, 3]) });
    const second = makeContext({ history: Int32Array.from([40, 41, 42]) });
    source.generate(first, 10, () => undefined);
    source.generate(second, 10, () => undefined);
    for (let item = 0; item < ITEMS; item++) {
      expect(source.explain(first, item, names)).toEqual(source.explain(copyOf(first), item, names));
      expect(source.explain(second, item, names)).toEqual(source.explain(copyOf(second), item, names));
    }
  });
});

describe('NeighboursSource.generate', () => {
  it('reads neighbour lists in place exactly as through similarItems', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const viaTopK = neighbourModel(seed);
      // The same lists as CSR, behind a model that exposes them.
      const indptr = new Int32Array(ITEMS + 1);
      const indices: number[] = [];
      const scores: number[] = [];
      for (let item = 0; item < ITEMS; item++) {
        const top = viaTopK.similarItems(item, 1000);
        for (let j = 0; j < (top?.indices.length ?? 0); j++) {
          indices.push(top!.indices[j]);
          scores.push(top!.scores[j]);
        }
        indptr[item + 1] = indices.length;
      }
      const withLists = {
        ...viaTopK,
        itemIds: viaTopK.itemIds,
        neighbourLists: { indptr, indices: Int32Array.from(indices), scores: Float32Array.from(scores) },
      } as unknown as Recommender;
      const r = rng(200 + seed);
      const history = Int32Array.from({ length: 12 }, () => Math.floor(r() * (ITEMS + 4)) - 2);
      const ctx = makeContext({ history });
      const run = (model: Recommender) => {
        const source = new NeighboursSource('n', model, { recent: 8, perItem: 5 });
        const out: [number, number][] = [];
        source.generate(ctx, 25, (item, score) => out.push([item, score]));
        const seeds = Array.from({ length: ITEMS }, (_, item) => source.explain(ctx, item, names));
        // Another request object: the seed is searched afresh instead of read back.
        const fresh = copyOf(ctx);
        const searched = Array.from({ length: ITEMS }, (_, item) => source.explain(fresh, item, names));
        return { out, seeds, searched };
      };
      const a = run(viaTopK);
      const b = run(withLists);
      expect(a.out.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    }
  });
});
