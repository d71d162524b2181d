/**
 * Held-out "complete the basket" evaluation: baskets split into training and test parts
 * (seeded); from each test basket of two or more items one item (seeded) is hidden, and a scorer
 * ranks every item from the rest of the basket, the rest excluded. Hit rate@k is the share of
 * test baskets whose hidden item lands in the top k.
 */
import { Rng } from '../../ingest/prng.js';
import { topK } from '../../kernels/topk.js';
import { selectBaskets, type Baskets } from './baskets.js';

/** One test basket: the visible items (in random order) and the hidden one. */
export interface HiddenItemCase {
  rest: Int32Array;
  hidden: number;
}

export interface BasketHoldout {
  train: Baskets;
  test: Baskets;
  cases: HiddenItemCase[];
}

/** Splits baskets `trainFraction` / rest at random (seeded) and hides one item per test basket. */
export function basketHoldout(baskets: Baskets, trainFraction: number, seed: number): BasketHoldout {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new RangeError('trainFraction must be in (0, 1)');
  const rng = new Rng(seed);
  const order = rng.shuffle(Int32Array.from({ length: baskets.count }, (_, i) => i));
  const cut = Math.round(baskets.count * trainFraction);
  const train = selectBaskets(baskets, order.subarray(0, cut));
  const test = selectBaskets(baskets, order.subarray(cut));
  const cases: HiddenItemCase[] = [];
  for (let b = 0; b < test.count; b++) {
    const items = test.idx.subarray(test.ptr[b], test.ptr[b + 1]);
    if (items.length < 2) continue;
    const h = rng.int(items.length);
    const rest = Int32Array.from(items.filter((_, j) => j !== h));
    // A basket has no order: the visible items go in random order, as a "most recent first" history.
    rng.shuffle(rest);
    cases.push({ rest, hidden: items[h] });
  }
  return { train, test, cases };
}

/** Writes a score for every item into `out` from the visible items of a basket. */
export type BasketScorer = (rest: Int32Array, out: Float32Array) => void;

/** Share of cases whose hidden item ranks in the scorer's top k, the visible items excluded. */
export function hitRateAtK(
  cases: readonly HiddenItemCase[],
  items: number,
  k: number,
  scorer: BasketScorer,
): number {
  if (cases.length === 0) return 0;
  const out = new Float32Array(items);
  const exclude = new Uint8Array(items);
  let hits = 0;
  for (const c of cases) {
    scorer(c.rest, out);
    for (const i of c.rest) exclude[i] = 1;
    const top = topK(out, k, exclude);
    for (const i of c.rest) exclude[i] = 0;
    if (top.indices.includes(c.hidden)) hits++;
  }
  return hits / cases.length;
}
