/**
 * A ranker learned from logged impressions.
 *
 * Training examples are the feature rows logged when a list was served (see features.ts) with
 * what the user did next. The objective decides the label:
 *
 * - `click`: label 1 when the impression was clicked.
 * - `purchase`: label 1 when it led to a purchase.
 * - `revenue`: label 1 when it led to a purchase, and each purchase weighted by its revenue
 *   divided by the mean revenue of the purchases in the log (capped at `revenueWeightCap`,
 *   default 20; a purchase without a revenue counts at the mean); impressions without a
 *   purchase weigh 1. With positives weighted by revenue, logistic regression's odds
 *   e^score estimate E[revenue | x] / P(no purchase | x), which is the expected revenue of the
 *   impression (in units of the mean purchase) when purchases are rare, so the score orders
 *   by expected revenue: a likely purchase of an expensive item beats an equally likely cheap
 *   one, and an expensive item nobody buys does not rise.
 *
 * The model is L2-regularised logistic regression (logistic-regression.ts); its score is the
 * log-odds, written to `CandidateSet.score`. Models are saved as JSON naming their features, and
 * a ranker maps them by name onto an extractor's columns, so an extractor with more features
 * than the model serves it.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { CandidateSet, Ranker, RequestContext } from '../types.js';
import type { FeatureExtractor } from './features.js';
import { fitLogistic, type LogisticFitOptions } from './logistic-regression.js';

export type RankingObjective = 'click' | 'purchase' | 'revenue';

export const RANKING_OBJECTIVES: readonly RankingObjective[] = ['click', 'purchase', 'revenue'];

/** One item shown in one served list, with what followed. */
export interface LoggedImpression {
  /** The id of the served list (joins clicks and purchases to it). */
  recommendationId: string;
  userId: string;
  itemIndex: number;
  /** 0-based position in the list. */
  position: number;
  /** Features of the item at serving time; null when they were not logged (recomputed by the caller). */
  featureRow: Float32Array | null;
  clicked: boolean;
  purchased: boolean;
  /** Revenue of the purchase (price x quantity), 0 without purchase. */
  revenue: number;
  /** Serving time (ms). */
  time: number;
}

/** Training rows: row-major features (rows x cols), a label and optional weight per row. */
export interface TrainingExamples {
  features: Float32Array;
  rows: number;
  cols: number;
  labels: Float32Array;
  weights?: Float32Array;
  /** Request (list) of each row, for per-list evaluation and filtering. */
  groups?: Int32Array;
}

export interface ExamplesFromImpressionsOptions {
  /** Feature count of the rows (default: the length of the first logged row). */
  cols?: number;
  /** Features of an impression logged without its row; null skips it. */
  recompute?: (impression: LoggedImpression) => Float32Array | null;
  /** Cap on a purchase's weight under the revenue objective, in mean purchases (default 20). */
  revenueWeightCap?: number;
}

export interface ImpressionExamples extends TrainingExamples {
  groups: Int32Array;
  /** Impressions left out: no features, or a row of the wrong length. */
  skipped: number;
}

/** Builds training examples for an objective from logged impressions. */
export function examplesFromImpressions(
  impressions: readonly LoggedImpression[],
  objective: RankingObjective,
  options: ExamplesFromImpressionsOptions = {},
): ImpressionExamples {
  const rows: Float32Array[] = [];
  const kept: LoggedImpression[] = [];
  let cols = options.cols ?? -1;
  let skipped = 0;
  for (const imp of impressions) {
    const row = imp.featureRow ?? options.recompute?.(imp) ?? null;
    if (row === null) {
      skipped++;
      continue;
    }
    if (cols < 0) cols = row.length;
    if (row.length !== cols) {
      skipped++;
      continue;
    }
    rows.push(row);
    kept.push(imp);
  }
  const n = kept.length;
  cols = Math.max(cols, 0);
  const features = new Float32Array(n * cols);
  const labels = new Float32Array(n);
  const groups = new Int32Array(n);
  const groupOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    features.set(rows[i], i * cols);
    const imp = kept[i];
    labels[i] = (objective === 'click' ? imp.clicked : imp.purchased) ? 1 : 0;
    let g = groupOf.get(imp.recommendationId);
    if (g === undefined) {
      g = groupOf.size;
      groupOf.set(imp.recommendationId, g);
    }
    groups[i] = g;
  }
  const result: ImpressionExamples = { features, rows: n, cols, labels, groups, skipped };
  if (objective === 'revenue') {
    let sum = 0;
    let count = 0;
    for (const imp of kept) {
      if (imp.purchased && imp.revenue > 0 && Number.isFinite(imp.revenue)) {
        sum += imp.revenue;
        count++;
      }
    }
    const meanRevenue = count > 0 ? sum / count : 1;
    const cap = options.revenueWeightCap ?? 20;
    const weights = new Float32Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      const imp = kept[i];
      if (!imp.purchased) continue;
      const r = imp.revenue > 0 && Number.isFinite(imp.revenue) ? imp.revenue / meanRevenue : 1;
      weights[i] = Math.min(cap, r);
    }
    result.weights = weights;
  }
  return result;
}

/** A logistic ranking model over named features. */
export interface LogisticRankerModel {
  kind: 'logistic';
  objective: RankingObjective;
  featureNames: readonly string[];
  /** Raw-space weights: score = bias + Σ weights[f] · x[f]. */
  weights: Float64Array;
  bias: number;
  /** Change in log-odds per standard deviation of each feature (for reading the model). */
  standardisedWeights: Float64Array;
  training: { rows: number; positives: number; iterations: number; objective: number; l2: number };
}

export type RankerModel = LogisticRankerModel;

export interface TrainRankerOptions extends LogisticFitOptions {
  /** Names of the columns (default `f0`, `f1`, ...). */
  featureNames?: readonly string[];
  /** Objective the labels stand for, recorded in the model (default `click`). */
  objective?: RankingObjective;
  /** Leave out lists (groups) without any positive: they say nothing about order (default false). */
  dropGroupsWithoutPositives?: boolean;
}

/** Trains a ranking model on examples. */
export function trainRanker(examples: TrainingExamples, options: TrainRankerOptions = {}): RankerModel {
  const { rows, cols, labels } = examples;
  const names = options.featureNames
    ? [...options.featureNames]
    : Array.from({ length: cols }, (_, f) => `f${f}`);
  if (names.length !== cols) throw new RangeError(`${names.length} feature names for ${cols} columns`);
  let use: Uint8Array | null = null;
  if (options.dropGroupsWithoutPositives) {
    if (!examples.groups) throw new Error('dropGroupsWithoutPositives needs groups');
    const groups = examples.groups;
    let maxGroup = -1;
    for (let i = 0; i < rows; i++) maxGroup = Math.max(maxGroup, groups[i]);
    const hasPositive = new Uint8Array(maxGroup + 1);
    for (let i = 0; i < rows; i++) if (labels[i] > 0) hasPositive[groups[i]] = 1;
    use = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) use[i] = hasPositive[groups[i]];
  }
  const fit = fitLogistic(
    { features: examples.features, rows, cols, labels, weights: examples.weights ?? null, use },
    options,
  );
  let positives = 0;
  for (let i = 0; i < rows; i++) if ((!use || use[i] !== 0) && labels[i] > 0) positives++;
  return {
    kind: 'logistic',
    objective: options.objective ?? 'click',
    featureNames: names,
    weights: fit.weights,
    bias: fit.bias,
    standardisedWeights: fit.standardisedWeights,
    training: {
      rows: fit.rowsUsed,
      positives,
      iterations: fit.iterations,
      objective: fit.objective,
      l2: options.l2 ?? 1e-4,
    },
  };
}

/** Scores `rows` feature rows laid out like the model's features into `out` (allocated when absent). */
export function scoreRows(
  model: RankerModel,
  features: Float32Array,
  rows: number,
  out?: Float32Array,
): Float32Array {
  const cols = model.featureNames.length;
  const result = out ?? new Float32Array(rows);
  const w = model.weights;
  for (let i = 0; i < rows; i++) {
    let s = model.bias;
    const base = i * cols;
    for (let f = 0; f < cols; f++) s += w[f] * features[base + f];
    result[i] = s;
  }
  return result;
}

/**
 * Area under the ROC curve of `scores` for `labels` (> 0 positive), ties counting 1/2. With
 * `groups`, pairs are formed within each group only (how well each list is ordered), pooled
 * over groups. NaN when there is no pair.
 */
export function binaryAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, groups?: Int32Array): number {
  const n = scores.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (groups ? groups[a] - groups[b] : 0) || scores[a] - scores[b]);
  let wins = 0;
  let pairs = 0;
  let start = 0;
  while (start < n) {
    let end = start + 1;
    if (groups) while (end < n && groups[order[end]] === groups[order[start]]) end++;
    else end = n;
    // Ascending scores: each positive beats the negatives below it; ties count 1/2.
    let negBelow = 0;
    let pos = 0;
    let neg = 0;
    let i = start;
    while (i < end) {
      let j = i;
      let tiePos = 0;
      let tieNeg = 0;
      while (j < end && scores[order[j]] === scores[order[i]]) {
        if (labels[order[j]] > 0) tiePos++;
        else tieNeg++;
        j++;
      }
      wins += tiePos * negBelow + 0.5 * tiePos * tieNeg;
      negBelow += tieNeg;
      pos += tiePos;
      neg += tieNeg;
      i = j;
    }
    pairs += pos * neg;
    start = end;
  }
  return pairs > 0 ? wins / pairs : NaN;
}

/** Ranks candidates by a trained model over an extractor's features. */
export class LearnedRanker implements Ranker {
  readonly name: string;
  private readonly columns: Int32Array;
  private readonly F: number;
  private lastRows = 0;

  constructor(
    readonly extractor: FeatureExtractor,
    readonly model: RankerModel,
    name = `learned-${model.objective}`,
  ) {
    this.name = name;
    this.F = extractor.featureCount;
    const missing: string[] = [];
    this.columns = Int32Array.from(model.featureNames, (f) => {
      const c = extractor.column(f);
      if (c < 0) missing.push(f);
      return c;
    });
    if (missing.length > 0)
      throw new Error(`the extractor lacks the model's features: ${missing.join(', ')}`);
  }

  rank(ctx: RequestContext, set: CandidateSet): void {
    const x = this.extractor.extract(ctx, set);
    const F = this.F;
    const cols = this.columns;
    const w = this.model.weights;
    const k = cols.length;
    for (let j = 0; j < set.size; j++) {
      if (set.removed[j] !== 0) continue;
      const base = j * F;
      let s = this.model.bias;
      for (let f = 0; f < k; f++) s += w[f] * x[base + cols[f]];
      set.score[j] = s;
    }
    this.lastRows = set.size;
  }

  /** Number of rows of the last request's features (`extractor.copyRow` reads them). */
  get rowsOfLastRequest(): number {
    return this.lastRows;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON form

export const RANKER_FORMAT = 'kindred-ranker';
export const RANKER_FORMAT_VERSION = 1;

export interface RankerModelJson {
  format: typeof RANKER_FORMAT;
  formatVersion: number;
  kind: 'logistic';
  objective: RankingObjective;
  featureNames: string[];
  weights: number[];
  bias: number;
  standardisedWeights: number[];
  training: LogisticRankerModel['training'];
}

export function rankerModelToJson(model: RankerModel): RankerModelJson {
  return {
    format: RANKER_FORMAT,
    formatVersion: RANKER_FORMAT_VERSION,
    kind: model.kind,
    objective: model.objective,
    featureNames: [...model.featureNames],
    weights: Array.from(model.weights),
    bias: model.bias,
    standardisedWeights: Array.from(model.standardisedWeights),
    training: { ...model.training },
  };
}

function isNumberArray(v: unknown, length: number): v is number[] {
  return (
    Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x))
  );
}

/** Checks and reads a model's JSON form; throws naming the first bad field. */
export function rankerModelFromJson(data: unknown): RankerModel {
  const fail = (why: string): never => {
    throw new Error(`not a Kindred ranking model: ${why}`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('not an object');
  const d = data as Record<string, unknown>;
  if (d.format !== RANKER_FORMAT) fail('format');
  if (d.formatVersion !== RANKER_FORMAT_VERSION) fail(`unsupported formatVersion ${String(d.formatVersion)}`);
  if (d.kind !== 'logistic') fail(`kind ${String(d.kind)}`);
  if (typeof d.objective !== 'string' || !RANKING_OBJECTIVES.includes(d.objective as RankingObjective))
    fail('objective');
  const names = d.featureNames;
  if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) return fail('featureNames');
  if (!isNumberArray(d.weights, names.length)) fail('weights');
  if (!isNumberArray(d.standardisedWeights, names.length)) fail('standardisedWeights');
  if (typeof d.bias !== 'number' || !Number.isFinite(d.bias)) fail('bias');
  const t = d.training as Record<string, unknown> | undefined;
  const training = {
    rows: typeof t?.rows === 'number' ? t.rows : 0,
    positives: typeof t?.positives === 'number' ? t.positives : 0,
    iterations: typeof t?.iterations === 'number' ? t.iterations : 0,
    objective: typeof t?.objective === 'number' ? t.objective : NaN,
    l2: typeof t?.l2 === 'number' ? t.l2 : NaN,
  };
  return {
    kind: 'logistic',
    objective: d.objective as RankingObjective,
    featureNames: names as string[],
    weights: Float64Array.from(d.weights as number[]),
    bias: d.bias as number,
    standardisedWeights: Float64Array.from(d.standardisedWeights as number[]),
    training,
  };
}

/** Writes a model as JSON, atomically. */
export function saveRankerModel(file: string, model: RankerModel): void {
  writeFileAtomic(file, `${JSON.stringify(rankerModelToJson(model), null, 2)}\n`);
}

export function loadRankerModel(file: string): RankerModel {
  return rankerModelFromJson(JSON.parse(readFileSync(file, 'utf8')) as unknown);
}

export function defaultRankerModelPath(modelsDir: string, placement?: string | null): string {
  const name = placement ? placement.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') : 'all';
  return path.join(modelsDir, 'rankers', `${name}.json`);
}
