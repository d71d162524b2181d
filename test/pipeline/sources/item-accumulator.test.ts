/** The accumulator agrees with catalogue-long arrays, through growth and clears. */
import { describe, expect, it } from 'vitest';
import { ItemAccumulator } from '../../../src/pipeline/sources/item-accumulator.js';
import { rng } from '../ranking/fixtures.js';

describe('ItemAccumulator', () => {
  it('sums, keeps the best seed and the first-touch order like per-item arrays', () => {
    const ITEMS = 5000;
    const acc = new ItemAccumulator(8); // far too small: grows several times
    for (let round = 0; round < 4; round++) {
      const r = rng(round + 1);
      const sums = new Float32Array(ITEMS);
      const seeds = new Int32Array(ITEMS).fill(-1);
      const best = new Float64Array(ITEMS);
      const order: number[] = [];
      acc.clear();
      const touches = round === 3 ? 0 : 300 * (round + 1);
      for (let t = 0; t < touches; t++) {
        // Items spread over a range that collides in the table, with repeats.
        const item = Math.floor(r() * r() * ITEMS);
        const amount = r();
        const seed = Math.floor(r() * 50);
        const similarity = Math.round(r() * 8) / 8;
        if (sums[item] === 0 && !order.includes(item)) order.push(item);
        sums[item] += amount;
        if (similarity > best[item]) {
          best[item] = similarity;
          seeds[item] = seed;
        }
        acc.add(item, amount, seed, similarity);
      }
      expect(acc.size).toBe(order.length);
      for (let t = 0; t < acc.size; t++) {
        expect(acc.itemAt(t)).toBe(order[t]);
        expect(acc.sumAt(t)).toBe(sums[order[t]]);
      }
      for (let item = 0; item < ITEMS; item++) expect(acc.seedOf(item)).toBe(seeds[item]);
    }
  });
});
