/**
 * Pairwise association rules A → B over baskets. With N baskets, n_A the baskets holding A
 * and n_AB those holding both:
 *
 *   support(A → B)    = n_AB / N
 *   confidence(A → B) = n_AB / n_A                       (estimate of P(B | A))
 *   lift(A → B)       = n_AB · N / (n_A · n_B)             (confidence over P(B); 1 = independent)
 *   leverage(A → B)   = n_AB / N − (n_A / N) · (n_B / N)
 *   conviction(A → B) = (1 − n_B / N) / (1 − confidence)  (Infinity when confidence is 1)
 *
 * Pair counts come from one pass per antecedent A: every basket holding A adds one to a dense
 * Int32Array scratch slot of each other item in it, so the cost is Σ over baskets of
 * |basket|², with no per-pair objects. Items below the support threshold are pruned first
 * (a pair is never more frequent than either of its items).
 *
 * The result keeps, per antecedent, its best `maxRulesPerItem` rules passing every threshold,
 * ordered by `rankBy` (lift or confidence; ties by the other measure, then by item index).
 */
import { itemBasketCounts, type Baskets } from './baskets.js';

export type RuleRanking = 'lift' | 'confidence';

export interface MineOptions {
  /** Minimum support of the pair: a basket count when >= 1, a fraction of the baskets when < 1. */
  minSupport: number;
  /** Minimum confidence, 0..1. */
  minConfidence: number;
  /** Minimum lift (1: only positively associated pairs; 0: no threshold). */
  minLift: number;
  /** Rules kept per antecedent. */
  maxRulesPerItem: number;
  /** Order of each antecedent's rules, and which ones are kept when there are too many. */
  rankBy: RuleRanking;
}

/** Rules grouped by antecedent: those of item a are at positions ptr[a] .. ptr[a+1]. */
export interface RuleSet {
  /** N: baskets mined. */
  baskets: number;
  /** n_A: baskets holding each item (or group). */
  itemCounts: Int32Array;
  /** items + 1 offsets. */
  ptr: Int32Array;
  /** Consequent B of each rule. */
  consequent: Int32Array;
  /** n_AB of each rule. */
  pairCount: Int32Array;
  /** Rules passing every threshold before the per-antecedent cut to `maxRulesPerItem`. */
  rulesFound: number;
}

/** Every measure of one rule. */
export interface RuleMeasures {
  support: number;
  confidence: number;
  lift: number;
  leverage: number;
  conviction: number;
}

/** The basket count a support threshold stands for on N baskets (at least 1). */
export function minSupportCount(minSupport: number, baskets: number): number {
  if (!(minSupport >= 0)) throw new RangeError(`minSupport must be >= 0, got ${minSupport}`);
  if (minSupport >= 1) return Math.ceil(minSupport);
  return Math.max(1, Math.ceil(minSupport * baskets - 1e-9));
}

/** Support, confidence, lift, leverage and conviction from counts n_AB, n_A, n_B over N baskets. */
export function ruleMeasures(nAB: number, nA: number, nB: number, n: number): RuleMeasures {
  const confidence = nA > 0 ? nAB / nA : 0;
  const pB = n > 0 ? nB / n : 0;
  return {
    support: n > 0 ? nAB / n : 0,
    confidence,
    lift: nA > 0 && nB > 0 ? (nAB * n) / (nA * nB) : 0,
    leverage: n > 0 ? nAB / n - (nA / n) * pB : 0,
    conviction: confidence >= 1 ? Infinity : (1 - pB) / (1 - confidence),
  };
}

/** Item → baskets holding it (the transpose of the basket matrix). */
function itemBaskets(baskets: Baskets, counts: Int32Array): { ptr: Int32Array; idx: Int32Array } {
  const { count, ptr, idx, items } = baskets;
  const iptr = new Int32Array(items + 1);
  for (let i = 0; i < items; i++) iptr[i + 1] = iptr[i] + counts[i];
  const fill = iptr.slice(0, items);
  const ib = new Int32Array(idx.length);
  for (let b = 0; b < count; b++) for (let p = ptr[b]; p < ptr[b + 1]; p++) ib[fill[idx[p]]++] = b;
  return { ptr: iptr, idx: ib };
}

/** Growable Int32Array. */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Mines the pairwise rules of `baskets` (see the module comment). */
export function mineRules(baskets: Baskets, options: MineOptions): RuleSet {
  const { items, ptr: bptr, idx: bidx } = baskets;
  const n = baskets.count;
  const minCount = minSupportCount(options.minSupport, n);
  const { minConfidence, minLift } = options;
  const maxRules = Math.max(0, Math.floor(options.maxRulesPerItem));
  const byLift = options.rankBy === 'lift';

  const counts = itemBasketCounts(baskets);
  const inv = itemBaskets(baskets, counts);
  const scratch = new Int32Array(items);
  const touched = new Int32Array(items);
  const cand = new Int32Array(items);
  const rulePtr = new Int32Array(items + 1);
  const consequent = new IntList(Math.min(items * maxRules, 1 << 16));
  const pairCount = new IntList(Math.min(items * maxRules, 1 << 16));
  let found = 0;

  // n_AB / n_B orders rules of one antecedent by lift; compared exactly by cross-multiplication.
  const compare = (x: number, y: number): number => {
    const cx = scratch[x];
    const cy = scratch[y];
    const liftOrder = cy * counts[x] - cx * counts[y];
    const confOrder = cy - cx;
    return (byLift ? liftOrder || confOrder : confOrder || liftOrder) || x - y;
  };

  for (let a = 0; a < items; a++) {
    rulePtr[a + 1] = rulePtr[a];
    const nA = counts[a];
    if (nA < minCount || maxRules === 0) continue;
    let nt = 0;
    for (let p = inv.ptr[a], end = inv.ptr[a + 1]; p < end; p++) {
      const b = inv.idx[p];
      for (let q = bptr[b], qe = bptr[b + 1]; q < qe; q++) {
        const c = bidx[q];
        if (c === a || counts[c] < minCount) continue;
        if (scratch[c]++ === 0) touched[nt++] = c;
      }
    }
    let m = 0;
    for (let t = 0; t < nt; t++) {
      const c = touched[t];
      const nAB = scratch[c];
      if (nAB < minCount || nAB / nA < minConfidence) continue;
      if ((nAB * n) / (nA * counts[c]) < minLift) continue;
      cand[m++] = c;
    }
    found += m;
    const kept = cand.subarray(0, m).sort(compare);
    const keep = Math.min(m, maxRules);
    for (let r = 0; r < keep; r++) {
      consequent.push(kept[r]);
      pairCount.push(scratch[kept[r]]);
    }
    rulePtr[a + 1] += keep;
    for (let t = 0; t < nt; t++) scratch[touched[t]] = 0;
  }
  return {
    baskets: n,
    itemCounts: counts,
    ptr: rulePtr,
    consequent: consequent.finish(),
    pairCount: pairCount.finish(),
    rulesFound: found,
  };
}

/** One rule with its measures, for explanations and reports. */
export interface AssocRule extends RuleMeasures {
  antecedent: number;
  consequent: number;
  /** Baskets holding both. */
  count: number;
}

/** The rule at position `p` of a rule set, antecedent `a`. */
export function ruleAt(rules: RuleSet, a: number, p: number): AssocRule {
  const b = rules.consequent[p];
  const nAB = rules.pairCount[p];
  return {
    antecedent: a,
    consequent: b,
    count: nAB,
    ...ruleMeasures(nAB, rules.itemCounts[a], rules.itemCounts[b], rules.baskets),
  };
}

/** The rules of antecedent `a`, in stored order (empty outside the item range). */
export function rulesOf(rules: RuleSet, a: number): AssocRule[] {
  if (!Number.isInteger(a) || a < 0 || a >= rules.itemCounts.length) return [];
  const out: AssocRule[] = [];
  for (let p = rules.ptr[a]; p < rules.ptr[a + 1]; p++) out.push(ruleAt(rules, a, p));
  return out;
}

/** Sorts rules in place by `by`, descending (ties: the other measure, then higher support, then lower indices). */
export function rankRules(rules: AssocRule[], by: RuleRanking): AssocRule[] {
  const other: RuleRanking = by === 'lift' ? 'confidence' : 'lift';
  return rules.sort(
    (x, y) =>
      y[by] - x[by] ||
      y[other] - x[other] ||
      y.count - x.count ||
      x.antecedent - y.antecedent ||
      x.consequent - y.consequent,
  );
}

/** The `k` rules of the whole set with the highest `by` measure (ties as in `rankRules`). */
export function topRules(rules: RuleSet, k: number, by: RuleRanking = 'lift'): AssocRule[] {
  const all: AssocRule[] = [];
  const items = rules.itemCounts.length;
  for (let a = 0; a < items; a++)
    for (let p = rules.ptr[a]; p < rules.ptr[a + 1]; p++) all.push(ruleAt(rules, a, p));
  return rankRules(all, by).slice(0, Math.max(0, Math.floor(k)));
}
