/**
 * Settings search by successive halving (Jamieson and Talwalkar 2016; the rung schedule of
 * Hyperband's inner loop): every candidate trains with a small share of its budget (epochs or
 * iterations), the best 1/eta go on to eta times the budget, and so on until the survivors train
 * with the full budget. Families that fit in one pass have no budget to share: their candidates
 * are all measured in full, which is plain grid or random search.
 */
import type { Params } from '../models/params.js';

export interface HalvingOptions {
  /** The parameter that sets the budget and its full value per candidate; null: no budget. */
  budget: ((params: Params) => { param: string; value: number } | null) | null;
  /** Survivors per rung are 1/eta of the candidates (default 3). */
  eta?: number;
  /** Smallest share of the budget a first rung may get (default 1/9). */
  minShare?: number;
}

export interface HalvingTrial<R> {
  params: Params;
  score: number;
  rung: number;
  /** Share of the full budget, 0..1. */
  share: number;
  result: R;
}

/** The number of rungs after the first: how often the field can be cut by eta within minShare. */
export function rungCount(candidates: number, eta: number, minShare: number): number {
  if (candidates <= 1) return 0;
  const byField = Math.floor(Math.log(candidates) / Math.log(eta) + 1e-9);
  const byBudget = Math.floor(Math.log(1 / minShare) / Math.log(eta) + 1e-9);
  return Math.max(0, Math.min(byField, byBudget));
}

/**
 * Runs the search; `evaluate` fits with the given (budget-scaled) params on the training part
 * and scores on the validation part (higher is better). Returns every trial and the best
 * candidate measured with its full budget (its original params, not the scaled ones).
 */
export async function successiveHalving<R>(
  candidates: readonly Params[],
  evaluate: (params: Params) => Promise<{ score: number; result: R }>,
  options: HalvingOptions,
  onTrial?: (trial: HalvingTrial<R>, done: number, planned: number) => void,
): Promise<{ best: HalvingTrial<R>; trials: HalvingTrial<R>[] }> {
  if (candidates.length === 0) throw new Error('no settings to search');
  const eta = options.eta ?? 3;
  const minShare = options.minShare ?? 1 / 9;
  if (!(eta >= 2)) throw new RangeError('eta must be at least 2');
  const budgets = candidates.map((c) => options.budget?.(c) ?? null);
  const withBudget = budgets.every((b) => b !== null && b.value >= eta);
  const rungs = withBudget ? rungCount(candidates.length, eta, minShare) : 0;
  let planned = 0;
  for (let s = 0, n = candidates.length; s <= rungs; s++, n = Math.max(1, Math.floor(n / eta))) planned += n;

  const trials: HalvingTrial<R>[] = [];
  let field = candidates.map((_, i) => i);
  let last: HalvingTrial<R>[] = [];
  for (let rung = 0; rung <= rungs; rung++) {
    const share = Math.pow(eta, rung - rungs);
    const measured: { index: number; trial: HalvingTrial<R> }[] = [];
    for (const index of field) {
      const params = { ...candidates[index] };
      const b = budgets[index];
      if (b && share < 1) params[b.param] = Math.max(1, Math.round(b.value * share));
      const { score, result } = await evaluate(params);
      const trial: HalvingTrial<R> = {
        params: candidates[index],
        score: Number.isFinite(score) ? score : -Infinity,
        rung,
        share,
        result,
      };
      trials.push(trial);
      measured.push({ index, trial });
      onTrial?.(trial, trials.length, planned);
    }
    measured.sort((a, b) => b.trial.score - a.trial.score || a.index - b.index);
    last = measured.map((m) => m.trial);
    const keep = Math.max(1, Math.floor(field.length / eta));
    field = measured.slice(0, keep).map((m) => m.index);
  }
  return { best: last[0], trials };
}
