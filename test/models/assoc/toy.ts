/**
 * Five hand-checkable baskets over items a b c d e (indices 0..4; e is never bought):
 *
 *   B1 {a, b, c}   B2 {a, b}   B3 {a, c}   B4 {b, c, d}   B5 {a, b, d}
 *
 * Item counts: a 4, b 4, c 3, d 2, e 0.
 * Pair counts: ab 3, ac 2, ad 1, bc 2, bd 2, cd 1.
 */
import { basketsFromLists } from '../../../src/models/assoc/baskets.js';

export const ITEMS = ['a', 'b', 'c', 'd', 'e'];
export const [A, B, C, D, E] = [0, 1, 2, 3, 4];
export const TOY = basketsFromLists(
  [
    [A, B, C],
    [A, B],
    [A, C],
    [B, C, D],
    [A, B, D],
  ],
  ITEMS.length,
);

/** Every pair rule kept: no thresholds. */
export const ALL = { minSupport: 1, minConfidence: 0, minLift: 0, maxRulesPerItem: 10 } as const;
