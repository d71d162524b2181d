/**
 * Offline evaluation of a fitted model against held-out interactions: ranking metrics at several
 * cut-offs, AUC and beyond-accuracy metrics (top-K protocol), and rating errors for models that
 * predict ratings. Every per-user array is aligned on `users` (external ids, in the order users
 * first appear among the relevant test rows), so two models evaluated on the same test rows
 * can be paired position by position. docs/metrics.md defines each metric.
 */
import { transformValues, transposeCsr } from '../data/csr-build.js';
import type { CsrMatrix } from '../data/csr.js';
import type { InteractionData } from '../data/interactions.js';
import { canPredict, type Recommender, type ScoringContext } from '../models/model.js';
import { recommendTopK, trainingContext } from '../models/recommend.js';
import {
  aucFromScores,
  beyondAccuracy,
  finiteMean,
  itemPopularity,
  rankingMetrics,
  type ItemSimilarity,
} from './metrics.js';
import type { RatingRows } from './rating-file.js';
import type { MetricSummary } from './experiment-result.js';
import { bootstrapCi, bootstrapRatioCi, pointSummary, type BootstrapOptions } from './statistics.js';

export const RANKING_METRICS = ['precision', 'recall', 'ndcg', 'map', 'mrr', 'hitRate'] as const;
export type RankingMetricName = (typeof RANKING_METRICS)[number];

/** Metrics with one value per user and no cut-off (beyond-accuracy ones at the main K). */
export type UserScalarName = 'auc' | 'novelty' | 'diversity' | 'popularityBias';
/** Metrics with one value for the whole set of users' lists. */
export type CatalogMetricName = 'coverage' | 'gini';

export interface RankingEvalOptions {
  /** Cut-offs to measure (any order, duplicates ignored); every one ≥ 1. */
  ks: readonly number[];
  /** A test row is relevant when its value is at least this. */
  threshold: number;
  /** Rows whose items are excluded from the user's candidates too (e.g. every training row). */
  seen?: RatingRows;
  /** Also compute the AUC of every user from the same scores (default false). */
  auc?: boolean;
  /** Also compute coverage, Gini, novelty, diversity and popularity bias (default false). */
  beyond?: boolean;
  /** List length of the beyond-accuracy metrics (default: the largest K; must be one of `ks`). */
  mainK?: number;
  /** Only test users for whom this returns true are measured. */
  userFilter?: (user: string) => boolean;
  /**
   * What diversity compares items by: a similarity function or an item x feature matrix (cosine).
   * Default: the item columns of the training matrix, binarised (items are alike when the same
   * users interacted with them).
   */
  itemFeatures?: ItemSimilarity | CsrMatrix;
  /**
   * Strong generalisation: rows of users the model was not trained on, given to it as their
   * history at scoring time (most recent first; the model folds them in) and excluded from their
   * candidates. Users with training rows ignore this.
   */
  foldIn?: RatingRows;
}

export interface RankingEvalResult {
  /** External ids of the measured users; every per-user array follows this order. */
  users: string[];
  /** Relevant test items of each user (items the model never saw included). */
  relevantCounts: Int32Array;
  /** The cut-offs, ascending. */
  ks: number[];
  /** List length of the beyond-accuracy metrics. */
  mainK: number;
  /** Metric name → K (as a string) → value per user. */
  atK: Record<RankingMetricName, Record<string, Float64Array>>;
  /** Per-user values of AUC (NaN where undefined) and, with `beyond`, novelty, diversity, popularityBias. */
  scalar: Partial<Record<UserScalarName, Float64Array>>;
  /** With `beyond`: coverage and Gini of the lists at the main K (no per-user values). */
  catalog: Partial<Record<CatalogMetricName, number>>;
  /** Means over users: `atK` like above, `scalar` over users with a defined value, plus `catalog`. */
  means: { atK: Record<RankingMetricName, Record<string, number>>; scalar: Record<string, number> };
}

function metricTable<T>(ks: readonly number[], make: () => T): Record<RankingMetricName, Record<string, T>> {
  const out = {} as Record<RankingMetricName, Record<string, T>>;
  for (const m of RANKING_METRICS) {
    const byK: Record<string, T> = {};
    for (const k of ks) byK[String(k)] = make();
    out[m] = byK;
  }
  return out;
}

/** Test items (by index in `data`; items unknown to it get distinct negative ids) per user. */
function relevantByUser(
  data: InteractionData,
  test: RatingRows,
  threshold: number,
  userFilter: ((user: string) => boolean) | undefined,
): Map<string, Set<number>> {
  const relevant = new Map<string, Set<number>>();
  const unknown = new Map<string, number>();
  for (let i = 0; i < test.length; i++) {
    if (!(test.ratings[i] >= threshold)) continue;
    const user = test.users[i];
    let set = relevant.get(user);
    if (!set) {
      if (userFilter && !userFilter(user)) continue;
      set = new Set<number>();
      relevant.set(user, set);
    }
    let item = data.items.index(test.items[i]);
    if (item < 0) {
      const id = test.items[i];
      item = unknown.get(id) ?? -(unknown.size + 1);
      unknown.set(id, item);
    }
    set.add(item);
  }
  return relevant;
}

function seenByUser(data: InteractionData, rows: RatingRows | undefined): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  if (!rows) return seen;
  for (let i = 0; i < rows.length; i++) {
    const item = data.items.index(rows.items[i]);
    if (item < 0) continue;
    const list = seen.get(rows.users[i]);
    if (list) list.push(item);
    else seen.set(rows.users[i], [item]);
  }
  return seen;
}

/** Fold-in histories by user: item indices most recent first, with their values as weights. */
function foldInContexts(data: InteractionData, rows: RatingRows | undefined): Map<string, ScoringContext> {
  const out = new Map<string, ScoringContext>();
  if (!rows) return out;
  const byUser = new Map<string, number[]>();
  for (let i = 0; i < rows.length; i++) {
    if (data.items.index(rows.items[i]) < 0 || !(rows.ratings[i] > 0)) continue;
    const list = byUser.get(rows.users[i]);
    if (list) list.push(i);
    else byUser.set(rows.users[i], [i]);
  }
  for (const [user, list] of byUser) {
    list.sort((a, b) => rows.timestamps[b] - rows.timestamps[a] || b - a);
    const history = new Int32Array(list.length);
    const historyWeights = new Float32Array(list.length);
    list.forEach((r, j) => {
      history[j] = data.items.index(rows.items[r]);
      historyWeights[j] = rows.ratings[r];
    });
    out.set(user, { userIndex: -1, history, historyWeights });
  }
  return out;
}

function cutOffs(ks: readonly number[]): number[] {
  const out = [...new Set(ks)].sort((a, b) => a - b);
  if (out.length === 0) throw new RangeError('at least one cut-off K is needed');
  for (const k of out)
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`cut-off ${k} is not an integer ≥ 1`);
  return out;
}

/**
 * Top-K evaluation: for each test user with a relevant item (value ≥ threshold), every item not
 * in the user's training history (nor in `seen`) is a candidate; the model scores all items once,
 * the best max(ks) candidates are kept and every ranking metric is computed at every K (the top
 * K is the first K of that list). Relevant items the model has never seen count in recall and
 * the ideal DCG (they can only be missed). Users unknown to the training data are scored with
 * an empty history. With K = 10 it reproduces evaluateTopK (protocol B2).
 */
export function evaluateRanking(
  model: Recommender,
  data: InteractionData,
  test: RatingRows,
  options: RankingEvalOptions,
): RankingEvalResult {
  const ks = cutOffs(options.ks);
  const maxK = ks[ks.length - 1];
  const mainK = options.mainK ?? maxK;
  if (!ks.includes(mainK)) throw new RangeError(`main K ${mainK} is not among the cut-offs ${ks.join(', ')}`);
  const relevant = relevantByUser(data, test, options.threshold, options.userFilter);
  const seen = seenByUser(data, options.seen);
  const foldIn = foldInContexts(data, options.foldIn);

  const n = relevant.size;
  const users = new Array<string>(n);
  const relevantCounts = new Int32Array(n);
  const atK = metricTable(ks, () => new Float64Array(n));
  const auc = options.auc ? new Float64Array(n) : null;
  const lists: Int32Array[] = options.beyond ? new Array<Int32Array>(n) : [];

  const nItems = data.items.size;
  const exclude = new Uint8Array(nItems);
  const scratch = new Float32Array(nItems);
  const empty: ScoringContext = {
    userIndex: -1,
    history: new Int32Array(0),
    historyWeights: new Float32Array(0),
  };
  const noSeen: number[] = [];
  let row = 0;
  for (const [user, rel] of relevant) {
    const u = data.users.index(user);
    const ctx = u >= 0 ? trainingContext(data, u) : (foldIn.get(user) ?? empty);
    const extra = seen.get(user) ?? noSeen;
    for (let j = 0; j < ctx.history.length; j++) exclude[ctx.history[j]] = 1;
    for (let j = 0; j < extra.length; j++) exclude[extra[j]] = 1;
    // recommendTopK leaves every item's score in `scratch`, which the AUC reads.
    const top = recommendTopK(model, ctx, maxK, { exclude, scratch }).indices;
    if (auc) auc[row] = aucFromScores(scratch, rel, exclude);
    for (let j = 0; j < ctx.history.length; j++) exclude[ctx.history[j]] = 0;
    for (let j = 0; j < extra.length; j++) exclude[extra[j]] = 0;

    for (const k of ks) {
      const m = rankingMetrics(k >= top.length ? top : top.subarray(0, k), rel, k);
      const key = String(k);
      atK.precision[key][row] = m.precision;
      atK.recall[key][row] = m.recall;
      atK.ndcg[key][row] = m.ndcg;
      atK.map[key][row] = m.map;
      atK.mrr[key][row] = m.mrr;
      atK.hitRate[key][row] = m.hitRate;
    }
    if (options.beyond) lists[row] = mainK >= top.length ? top : top.subarray(0, mainK);
    users[row] = user;
    relevantCounts[row] = rel.size;
    row++;
  }

  const scalar: Partial<Record<UserScalarName, Float64Array>> = {};
  const catalog: Partial<Record<CatalogMetricName, number>> = {};
  if (auc) scalar.auc = auc;
  if (options.beyond) {
    const features = options.itemFeatures ?? transformValues(transposeCsr(data.matrix), 'binary');
    const b = beyondAccuracy(lists, {
      catalogSize: nItems,
      popularity: itemPopularity(data.matrix),
      users: data.users.size,
      similarity: features,
    });
    scalar.novelty = b.novelty;
    if (b.diversity) scalar.diversity = b.diversity;
    scalar.popularityBias = b.popularityBias;
    catalog.coverage = b.coverage;
    catalog.gini = b.gini;
  }
  return { users, relevantCounts, ks, mainK, atK, scalar, catalog, means: meansOf(atK, scalar, catalog) };
}

function meansOf(
  atK: Record<RankingMetricName, Record<string, Float64Array>>,
  scalar: Partial<Record<UserScalarName, Float64Array>>,
  catalog: Partial<Record<CatalogMetricName, number>>,
): RankingEvalResult['means'] {
  const meanAtK = {} as Record<RankingMetricName, Record<string, number>>;
  for (const m of RANKING_METRICS) {
    const byK: Record<string, number> = {};
    for (const [k, values] of Object.entries(atK[m])) byK[k] = arrayMean(values);
    meanAtK[m] = byK;
  }
  const meanScalar: Record<string, number> = {};
  for (const [name, values] of Object.entries(scalar)) meanScalar[name] = finiteMean(values);
  for (const [name, value] of Object.entries(catalog)) meanScalar[name] = value;
  return { atK: meanAtK, scalar: meanScalar };
}

/** Plain mean (0 for no users, as evaluateTopK), summed in user order. */
function arrayMean(values: Float64Array): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/**
 * Results of several folds as one: users and per-user values concatenated in fold order
 * (a user appears once per fold), catalogue-level values averaged over the folds.
 */
export function mergeRankingResults(results: readonly RankingEvalResult[]): RankingEvalResult {
  if (results.length === 0) throw new RangeError('no results to merge');
  if (results.length === 1) return results[0];
  const ks = results[0].ks;
  const mainK = results[0].mainK;
  for (const r of results) {
    if (r.ks.join() !== ks.join() || r.mainK !== mainK) throw new RangeError('results differ in cut-offs');
  }
  const users = results.flatMap((r) => r.users);
  const relevantCounts = concat(results.map((r) => r.relevantCounts));
  const atK = metricTable<Float64Array>(ks, () => new Float64Array(0));
  for (const m of RANKING_METRICS) {
    for (const k of ks) atK[m][String(k)] = concat(results.map((r) => r.atK[m][String(k)]));
  }
  const scalar: Partial<Record<UserScalarName, Float64Array>> = {};
  for (const name of Object.keys(results[0].scalar) as UserScalarName[]) {
    const parts = results.map((r) => r.scalar[name]);
    if (parts.every((p): p is Float64Array => p !== undefined)) scalar[name] = concat(parts);
  }
  const catalog: Partial<Record<CatalogMetricName, number>> = {};
  for (const name of Object.keys(results[0].catalog) as CatalogMetricName[]) {
    catalog[name] = results.reduce((s, r) => s + (r.catalog[name] ?? NaN), 0) / results.length;
  }
  return { users, relevantCounts, ks, mainK, atK, scalar, catalog, means: meansOf(atK, scalar, catalog) };
}

function concat(parts: readonly Float64Array[]): Float64Array;
function concat(parts: readonly Int32Array[]): Int32Array;
function concat(parts: readonly (Float64Array | Int32Array)[]): Float64Array | Int32Array {
  const length = parts.reduce((s, p) => s + p.length, 0);
  const out = parts[0] instanceof Int32Array ? new Int32Array(length) : new Float64Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Bootstrap summaries of every metric of a result, shaped like ModelRun.atK and ModelRun.scalar.
 * Catalogue-level metrics (coverage, gini) have no per-user values: their interval is the value.
 */
export function summarizeRanking(
  result: RankingEvalResult,
  options: BootstrapOptions = {},
): { atK: Record<string, Record<string, MetricSummary>>; scalar: Record<string, MetricSummary> } {
  const atK: Record<string, Record<string, MetricSummary>> = {};
  for (const m of RANKING_METRICS) {
    const byK: Record<string, MetricSummary> = {};
    for (const [k, values] of Object.entries(result.atK[m])) byK[k] = bootstrapCi(values, options);
    atK[m] = byK;
  }
  const scalar: Record<string, MetricSummary> = {};
  for (const [name, values] of Object.entries(result.scalar)) scalar[name] = bootstrapCi(values, options);
  for (const [name, value] of Object.entries(result.catalog)) scalar[name] = pointSummary(value);
  return { atK, scalar };
}

// ---------------------------------------------------------------------------------------------
// Rating prediction

export interface RatingEvalOptions {
  /** Only rows of test users for whom this returns true are measured. */
  userFilter?: (user: string) => boolean;
}

export interface RatingEvalResult {
  /** External ids of the measured users, in the order they first appear in the test rows. */
  users: string[];
  /** Number of rows measured, per user. */
  rowCounts: Int32Array;
  /** Summed squared and absolute error per user (the bootstrap of RMSE and MAE resamples these). */
  squaredErrorSums: Float64Array;
  absoluteErrorSums: Float64Array;
  /** Per-user mean squared and mean absolute error (for paired comparisons between models). */
  mse: Float64Array;
  mae: Float64Array;
  /** Over all measured rows: √(Σ squared error / rows) and Σ absolute error / rows. */
  rmse: number;
  pooledMae: number;
  rows: number;
}

/**
 * Rating-prediction errors of every test row (users and items unknown to the training data are
 * predicted with index -1, as the models define); null when the model does not predict ratings.
 * The pooled RMSE and MAE equal ratingErrors over the same rows.
 */
export function evaluateRatings(
  model: Recommender,
  data: InteractionData,
  test: RatingRows,
  options: RatingEvalOptions = {},
): RatingEvalResult | null {
  if (!canPredict(model)) return null;
  const position = new Map<string, number>();
  const users: string[] = [];
  const rowUser = new Int32Array(test.length).fill(-1);
  for (let i = 0; i < test.length; i++) {
    const user = test.users[i];
    let p = position.get(user);
    if (p === undefined) {
      if (options.userFilter && !options.userFilter(user)) continue;
      p = users.length;
      users.push(user);
      position.set(user, p);
    }
    rowUser[i] = p;
  }
  const n = users.length;
  const rowCounts = new Int32Array(n);
  const se = new Float64Array(n);
  const ae = new Float64Array(n);
  let seTotal = 0;
  let aeTotal = 0;
  let rows = 0;
  for (let i = 0; i < test.length; i++) {
    const p = rowUser[i];
    if (p < 0) continue;
    const predicted = model.predict(data.users.index(test.users[i]), data.items.index(test.items[i]));
    const d = predicted - test.ratings[i];
    const sq = d * d;
    const abs = Math.abs(d);
    se[p] += sq;
    ae[p] += abs;
    rowCounts[p]++;
    seTotal += sq;
    aeTotal += abs;
    rows++;
  }
  const mse = new Float64Array(n);
  const mae = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    mse[p] = se[p] / rowCounts[p];
    mae[p] = ae[p] / rowCounts[p];
  }
  const denom = Math.max(1, rows);
  return {
    users,
    rowCounts,
    squaredErrorSums: se,
    absoluteErrorSums: ae,
    mse,
    mae,
    rmse: Math.sqrt(seTotal / denom),
    pooledMae: aeTotal / denom,
    rows,
  };
}

/**
 * RMSE and MAE with bootstrap intervals that resample users (all of a user's rows together), the
 * statistic recomputed over the rows of each resample; shaped for ModelRun.scalar.
 */
export function summarizeRatings(
  result: RatingEvalResult,
  options: BootstrapOptions = {},
): { rmse: MetricSummary; mae: MetricSummary } {
  return {
    rmse: bootstrapRatioCi(result.squaredErrorSums, result.rowCounts, { ...options, transform: Math.sqrt }),
    mae: bootstrapRatioCi(result.absoluteErrorSums, result.rowCounts, options),
  };
}
