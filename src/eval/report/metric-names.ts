/** Display names, order and direction of the metrics a results file can hold. */
import type { MetricSummary, ModelRun } from '../experiment-result.js';

/** Ranking metrics measured at each K, in display order. */
export const RANKING_METRICS = ['precision', 'recall', 'ndcg', 'map', 'mrr', 'hitRate'] as const;

/** Metrics without a cut-off, in display order. */
export const SCALAR_METRICS = [
  'auc',
  'coverage',
  'novelty',
  'diversity',
  'popularityBias',
  'rmse',
  'mae',
] as const;

const LABELS: Record<string, string> = {
  precision: 'Precision',
  recall: 'Recall',
  ndcg: 'NDCG',
  map: 'MAP',
  mrr: 'MRR',
  hitRate: 'Hit rate',
  auc: 'AUC',
  coverage: 'Coverage',
  novelty: 'Novelty',
  diversity: 'Diversity',
  popularityBias: 'Popularity bias',
  rmse: 'RMSE',
  mae: 'MAE',
};

/** Metrics where a smaller value is better; every other metric is better when larger. */
const LOWER_IS_BETTER = new Set(['rmse', 'mae', 'popularityBias']);

export function metricLabel(name: string): string {
  return Object.hasOwn(LABELS, name) ? LABELS[name] : name;
}

export function lowerIsBetter(name: string): boolean {
  return LOWER_IS_BETTER.has(name);
}

/** `NDCG@10` for metrics with a cut-off, `RMSE` for the others. */
export function metricAtK(name: string, k: number): string {
  return (SCALAR_METRICS as readonly string[]).includes(name)
    ? metricLabel(name)
    : `${metricLabel(name)}@${k}`;
}

/** A metric of a run at K, looked up among the cut-off metrics first, then the scalar ones. */
export function summaryOf(run: ModelRun, name: string, k: number): MetricSummary | undefined {
  const byK = Object.hasOwn(run.atK, name) ? run.atK[name] : undefined;
  if (byK && Object.hasOwn(byK, String(k))) return byK[String(k)];
  return Object.hasOwn(run.scalar, name) ? run.scalar[name] : undefined;
}

/** Names present in any run, known ones first in display order, then unknown ones sorted. */
export function presentMetrics(
  runs: readonly ModelRun[],
  pick: (run: ModelRun) => Record<string, unknown>,
  known: readonly string[],
): string[] {
  const seen = new Set<string>();
  for (const run of runs) for (const name of Object.keys(pick(run) ?? {})) seen.add(name);
  const ordered = known.filter((n) => seen.has(n));
  const rest = [...seen].filter((n) => !known.includes(n)).sort();
  return [...ordered, ...rest];
}
