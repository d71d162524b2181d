/**
 * Runs a declared experiment: reads the interactions, splits them, searches settings on a
 * validation split carved out of the training part (never the test part), fits every model on
 * every fold, measures it, and summarises with bootstrap confidence intervals and paired tests.
 */
import { buildInteractions, interactionsFromArrays, type InteractionData } from '../data/interactions.js';
import type { Params } from '../models/params.js';
import { createModel, trainingBudget } from '../models/registry.js';
import { saveSettings } from '../models/settings-file.js';
import type { Store } from '../store/store.js';
import type { Comparison, ExperimentResult, ModelRun, SearchTrace } from './experiment-result.js';
import type { Experiment, ModelEntry } from './experiment-spec.js';
import { successiveHalving } from './halving.js';
import {
  evaluateRanking,
  evaluateRatings,
  mergeRankingResults,
  summarizeRanking,
  summarizeRatings,
  type RankingEvalResult,
  type RatingEvalResult,
} from './ranking-eval.js';
import { readRatingFile, selectRows, type RatingRows } from './rating-file.js';
import { candidateSettings } from './search.js';
import { describeSplit, readPredefinedRows, splitRows, type Fold } from './splits.js';
import { alignByUser, comparePaired, holmAdjust } from './statistics.js';

export interface RunOptions {
  /** The store, when the experiment reads its data from it. */
  store?: Store;
  /** Where chosen settings are saved for `kindred train`; null: not saved. */
  modelsDir: string | null;
  log?: (message: string) => void;
  /** When aborted, the runs finished so far are returned (no new fit starts). */
  signal?: AbortSignal;
  /** Receives the results after every finished run (for writing them as they grow). */
  checkpoint?: (partial: ExperimentResult) => void;
}

interface Dataset {
  rows: RatingRows;
  folds: Fold[];
  /** Every item id known to the experiment, in a fixed order (the catalogue models rank). */
  catalog: string[];
  source: string;
}

/** The interactions of the store as rows (strength as the value). */
async function storeRows(store: Store): Promise<{ rows: RatingRows; catalog: string[] }> {
  const data = await buildInteractions(store, { items: 'catalog' });
  const ev = data.events;
  const users = new Array<string>(ev.length);
  const items = new Array<string>(ev.length);
  const userIds = data.users.ids;
  const itemIds = data.items.ids;
  for (let e = 0; e < ev.length; e++) {
    users[e] = userIds[ev.user[e]];
    items[e] = itemIds[ev.item[e]];
  }
  return {
    rows: {
      users,
      items,
      ratings: ev.strength.slice(0, ev.length),
      timestamps: ev.time.slice(0, ev.length),
      length: ev.length,
    },
    catalog: itemIds.slice(),
  };
}

function catalogOf(rows: RatingRows): string[] {
  return [...new Set(rows.items)];
}

async function loadDataset(exp: Experiment, store: Store | undefined): Promise<Dataset> {
  if (exp.split.kind === 'predefined') {
    const rows = readPredefinedRows(exp.split);
    return {
      rows,
      folds: splitRows(rows, exp.split),
      catalog: catalogOf(rows),
      source: `${exp.split.train} + ${exp.split.test}`,
    };
  }
  let rows: RatingRows;
  let catalog: string[];
  let source: string;
  if (exp.data.kind === 'ratings') {
    rows = readRatingFile(exp.data.file);
    catalog = catalogOf(rows);
    source = exp.data.file;
  } else {
    if (!store) throw new Error('this experiment reads the store, but no store was given');
    ({ rows, catalog } = await storeRows(store));
    source = 'store';
  }
  return { rows, folds: splitRows(rows, exp.split), catalog, source };
}

function trainingData(
  rows: RatingRows,
  index: Int32Array,
  exp: Experiment,
  catalog: string[],
): {
  data: InteractionData;
  trainRows: RatingRows;
} {
  const trainRows = selectRows(rows, index);
  const min = exp.protocol.trainThreshold;
  const kept =
    min === null ? trainRows : selectRows(trainRows, Int32Array.from(keepAtLeast(trainRows.ratings, min)));
  const data = interactionsFromArrays({
    userIds: kept.users,
    itemIds: kept.items,
    strengths: kept.ratings,
    timestamps: kept.timestamps,
    catalog,
  });
  return { data, trainRows };
}

function keepAtLeast(values: Float32Array, min: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] >= min) out.push(i);
  return out;
}

interface FoldMeasure {
  ranking: RankingEvalResult;
  ratings: RatingEvalResult | null;
  fitSeconds: number;
  evalSeconds: number;
}

async function measureFold(
  name: string,
  params: Params,
  rows: RatingRows,
  fold: Fold,
  exp: Experiment,
  catalog: string[],
  ks: number[],
  full: boolean,
): Promise<FoldMeasure> {
  const { data, trainRows } = trainingData(rows, fold.train, exp, catalog);
  const test = selectRows(rows, fold.test);
  const t0 = performance.now();
  const model = await createModel(name, params).fit(data);
  const t1 = performance.now();
  const ranking = evaluateRanking(model, data, test, {
    ks,
    mainK: exp.protocol.mainK,
    threshold: exp.protocol.threshold,
    seen: trainRows,
    auc: full && exp.protocol.auc,
    beyond: full && exp.protocol.beyondAccuracy,
    foldIn: fold.foldIn ? selectRows(rows, fold.foldIn) : undefined,
  });
  const ratings = full ? evaluateRatings(model, data, test) : null;
  return { ranking, ratings, fitSeconds: (t1 - t0) / 1000, evalSeconds: (performance.now() - t1) / 1000 };
}

/** Chooses settings for one model on a validation split of the first fold's training part. */
async function searchModel(
  entry: ModelEntry,
  data: Dataset,
  exp: Experiment,
  log: (m: string) => void,
  signal: AbortSignal | undefined,
): Promise<SearchTrace> {
  const search = entry.search!;
  const trainPart = selectRows(data.rows, data.folds[0].train);
  const validation = splitRows(trainPart, search.validation)[0];
  const space = search.space;
  const combos = Object.values(space).reduce((n, v) => n * v.length, 1);
  const limit = search.method === 'grid' ? Math.min(combos, search.trials) : search.trials;
  const candidates = candidateSettings(space, limit, exp.seed).map((p) => ({ ...entry.params, ...p }));
  log(
    `${entry.label}: searching ${candidates.length} settings on ${describeSplit(search.validation)} of the training part` +
      (search.halving ? ' with successive halving' : ''),
  );
  const metric = exp.protocol.metric;
  const mainK = exp.protocol.mainK;
  const { best, trials } = await successiveHalving(
    candidates,
    async (params) => {
      if (signal?.aborted) return { score: -Infinity, result: 0 };
      const m = await measureFold(
        entry.name,
        params,
        trainPart,
        validation,
        exp,
        data.catalog,
        [mainK],
        false,
      );
      return { score: m.ranking.means.atK[metric][String(mainK)], result: m.fitSeconds };
    },
    { budget: search.halving ? (p) => trainingBudget(entry.name, p) : null },
    (t, done, planned) =>
      log(
        `  ${entry.label} [${done}/${planned}] ${JSON.stringify(t.params)}` +
          (t.share < 1 ? ` at ${(t.share * 100).toFixed(0)}% budget` : '') +
          ` validation ${metric}@${mainK} ${t.score.toFixed(4)} (fit ${t.result.toFixed(2)} s)`,
      ),
  );
  return {
    model: entry.label,
    trials: trials.map((t) => ({
      params: t.params,
      score: t.score,
      rung: t.rung,
      budget: t.share,
      fitSeconds: t.result,
    })),
    best: best.params,
    bestScore: best.score,
  };
}

interface Measured {
  run: ModelRun;
  ranking: RankingEvalResult;
}

/** Runs the experiment; see RunOptions for interruption and checkpoints. */
export async function runExperiment(exp: Experiment, options: RunOptions): Promise<ExperimentResult> {
  const log = options.log ?? (() => undefined);
  const data = await loadDataset(exp, options.store);
  const users = new Set(data.rows.users).size;
  log(
    `${exp.name}: ${data.rows.length} interactions, ${users} users, ${data.catalog.length} items; ` +
      `${describeSplit(exp.split)}, ${data.folds.length} fold(s)`,
  );
  const bootstrap = {
    resamples: exp.protocol.bootstrap,
    confidence: exp.protocol.confidence,
    seed: exp.seed,
  };
  const measured: Measured[] = [];
  const searches: SearchTrace[] = [];

  const result = (): ExperimentResult => ({
    name: exp.name,
    createdAt: new Date().toISOString(),
    data: { source: data.source, users, items: data.catalog.length, interactions: data.rows.length },
    split: {
      kind: exp.split.kind,
      description: data.folds[0]?.description ?? describeSplit(exp.split),
      seed: 'seed' in exp.split && typeof exp.split.seed === 'number' ? exp.split.seed : exp.seed,
      folds: data.folds.length,
    },
    protocol: {
      ks: exp.protocol.ks,
      mainK: exp.protocol.mainK,
      primaryMetric: exp.protocol.metric,
      threshold: exp.protocol.threshold,
      confidence: exp.protocol.confidence,
    },
    runs: measured.map((m) => m.run),
    comparisons: compareRuns(measured, exp, bootstrap),
    searches,
  });

  for (const entry of exp.models) {
    if (options.signal?.aborted) break;
    let params = entry.params;
    if (entry.search) {
      const trace = await searchModel(entry, data, exp, log, options.signal);
      if (options.signal?.aborted) break;
      searches.push(trace);
      params = trace.best;
      log(
        `${entry.label}: chose ${JSON.stringify(params)} (validation ${exp.protocol.metric} ${trace.bestScore.toFixed(4)})`,
      );
      if (entry.search.save && options.modelsDir) {
        saveSettings(options.modelsDir, entry.name, {
          params,
          source: {
            experiment: exp.name,
            metric: `${exp.protocol.metric}@${exp.protocol.mainK}`,
            score: trace.bestScore,
            trials: trace.trials.length,
            chosenAt: new Date().toISOString(),
          },
        });
        log(`${entry.label}: settings saved for kindred train`);
      }
    }
    const perFold: FoldMeasure[] = [];
    for (let f = 0; f < data.folds.length; f++) {
      if (options.signal?.aborted) break;
      const m = await measureFold(
        entry.name,
        params,
        data.rows,
        data.folds[f],
        exp,
        data.catalog,
        exp.protocol.ks,
        true,
      );
      perFold.push(m);
      const k = String(exp.protocol.mainK);
      log(
        `${entry.label} fold ${f + 1}/${data.folds.length}: ${exp.protocol.metric}@${k} ` +
          `${m.ranking.means.atK[exp.protocol.metric][k].toFixed(4)} over ${m.ranking.users.length} users ` +
          `(fit ${m.fitSeconds.toFixed(2)} s, eval ${m.evalSeconds.toFixed(2)} s)`,
      );
    }
    if (perFold.length < data.folds.length) break;
    // Users of different folds are different measurements: key them by fold.
    const ranking = mergeRankingResults(
      perFold.map((m, f) => ({ ...m.ranking, users: m.ranking.users.map((u) => `${f}:${u}`) })),
    );
    const summary = summarizeRanking(ranking, bootstrap);
    const scalar = { ...summary.scalar };
    const ratingFolds = perFold.map((m) => m.ratings).filter((r): r is RatingEvalResult => r !== null);
    if (ratingFolds.length === perFold.length && ratingFolds.length > 0) {
      const merged = mergeRatings(ratingFolds);
      const r = summarizeRatings(merged, bootstrap);
      scalar.rmse = r.rmse;
      scalar.mae = r.mae;
    }
    const mean = (f: (m: FoldMeasure) => number): number =>
      perFold.reduce((a, m) => a + f(m), 0) / perFold.length;
    measured.push({
      ranking,
      run: {
        label: entry.label,
        model: entry.name,
        params,
        fitSeconds: mean((m) => m.fitSeconds),
        evalSeconds: mean((m) => m.evalSeconds),
        users: ranking.users.length,
        atK: summary.atK,
        scalar,
      },
    });
    options.checkpoint?.(result());
  }
  return result();
}

/** Concatenates the per-user rating errors of several folds (users keyed by fold). */
function mergeRatings(folds: RatingEvalResult[]): RatingEvalResult {
  const cat = (pick: (r: RatingEvalResult) => Float64Array): Float64Array => {
    const out = new Float64Array(folds.reduce((n, r) => n + pick(r).length, 0));
    let at = 0;
    for (const r of folds) {
      out.set(pick(r), at);
      at += pick(r).length;
    }
    return out;
  };
  const rowCounts = new Int32Array(folds.reduce((n, r) => n + r.rowCounts.length, 0));
  let at = 0;
  for (const r of folds) {
    rowCounts.set(r.rowCounts, at);
    at += r.rowCounts.length;
  }
  const squared = cat((r) => r.squaredErrorSums);
  const absolute = cat((r) => r.absoluteErrorSums);
  const rows = folds.reduce((n, r) => n + r.rows, 0);
  const se = squared.reduce((a, b) => a + b, 0);
  const ae = absolute.reduce((a, b) => a + b, 0);
  return {
    users: folds.flatMap((r, f) => r.users.map((u) => `${f}:${u}`)),
    rowCounts,
    squaredErrorSums: squared,
    absoluteErrorSums: absolute,
    mse: cat((r) => r.mse),
    mae: cat((r) => r.mae),
    rmse: Math.sqrt(se / Math.max(1, rows)),
    pooledMae: ae / Math.max(1, rows),
    rows,
  };
}

/** Paired tests on the primary metric at the main K: each run against the best, or every pair. */
function compareRuns(
  measured: Measured[],
  exp: Experiment,
  bootstrap: { resamples: number; confidence: number; seed: number },
): Comparison[] {
  if (measured.length < 2) return [];
  const metric = exp.protocol.metric;
  const k = String(exp.protocol.mainK);
  const value = (m: Measured): number => m.run.atK[metric]?.[k]?.mean ?? -Infinity;
  const pairs: [Measured, Measured][] = [];
  if (exp.compare === 'all') {
    for (let i = 0; i < measured.length; i++)
      for (let j = i + 1; j < measured.length; j++) pairs.push([measured[i], measured[j]]);
  } else {
    const best = measured.reduce((a, b) => (value(b) > value(a) ? b : a));
    for (const m of measured) if (m !== best) pairs.push([best, m]);
  }
  const out = pairs.map(([a, b]): Comparison => {
    const aligned = alignByUser(
      a.ranking.users,
      a.ranking.atK[metric][k],
      b.ranking.users,
      b.ranking.atK[metric][k],
    );
    const c = comparePaired(aligned.a, aligned.b, { test: 't', ...bootstrap });
    return { a: a.run.label, b: b.run.label, metric, k: exp.protocol.mainK, ...c };
  });
  // Several tests at once: Holm's step-down keeps the family-wise error rate.
  const adjusted = holmAdjust(out.map((c) => c.pValue));
  return out.map((c, i) => ({ ...c, pValue: adjusted[i], test: `${c.test}, Holm-adjusted` }));
}
