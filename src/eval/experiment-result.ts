/**
 * What `kindred eval` writes: the JSON results of one experiment. The HTML report is rendered
 * from this alone, so a saved results file can be re-rendered later.
 */
import type { Params } from '../models/params.js';

/** A mean over users (or folds) with its bootstrap confidence interval. */
export interface MetricSummary {
  mean: number;
  /** Lower and upper ends of the confidence interval (equal to the mean when it cannot be estimated). */
  low: number;
  high: number;
}

/** One model with one setting, measured on every fold of the split. */
export interface ModelRun {
  /** Unique within the experiment, e.g. `als` or `als (factors=128)`. */
  label: string;
  /** Registry name of the model family. */
  model: string;
  params: Params;
  /** Mean seconds to fit, per fold. */
  fitSeconds: number;
  /** Mean seconds to evaluate, per fold. */
  evalSeconds: number;
  /** Users measured, summed over folds. */
  users: number;
  /**
   * Ranking metrics at each cut-off: metric name (precision, recall, ndcg, map, mrr, hitRate)
   * to K (as a string) to its summary.
   */
  atK: Record<string, Record<string, MetricSummary>>;
  /**
   * Metrics without a cut-off or at the main K only: auc, rmse, mae (rating models), coverage,
   * novelty, diversity, popularityBias. Absent when not measured.
   */
  scalar: Record<string, MetricSummary>;
}

/** A paired test between two runs on the same users. */
export interface Comparison {
  a: string;
  b: string;
  metric: string;
  k: number;
  /** Mean of (a − b) over the paired users. */
  meanDifference: number;
  low: number;
  high: number;
  pValue: number;
  test: string;
  pairs: number;
}

/** One setting tried by the hyperparameter search. */
export interface SearchTrial {
  params: Params;
  /** Validation score (the experiment's primary metric at the main K). */
  score: number;
  /** Successive-halving rung (0 = smallest budget). */
  rung: number;
  /** Share of the full budget (epochs or iterations) this trial trained with, 0..1. */
  budget: number;
  fitSeconds: number;
}

export interface SearchTrace {
  model: string;
  trials: SearchTrial[];
  best: Params;
  bestScore: number;
}

export interface ExperimentResult {
  name: string;
  /** ISO time the experiment finished. */
  createdAt: string;
  data: { source: string; users: number; items: number; interactions: number };
  split: { kind: string; description: string; seed: number; folds: number };
  protocol: {
    /** Cut-offs measured, ascending. */
    ks: number[];
    /** The K of comparisons, searches and the headline table. */
    mainK: number;
    /** The metric searches optimise and comparisons test, e.g. `ndcg`. */
    primaryMetric: string;
    /** Test interactions with a value at least this are relevant. */
    threshold: number;
    /** Confidence level of the intervals, e.g. 0.95. */
    confidence: number;
  };
  runs: ModelRun[];
  comparisons: Comparison[];
  searches: SearchTrace[];
}
