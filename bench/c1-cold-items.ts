/**
 * Protocol C1 of ../shared/BENCHMARKS.md: cold items on ml-100k and ml-latest-small.
 *
 *   node dist/bench/c1-cold-items.js [--datasets ml-100k,ml-latest-small]
 *
 * Splits from ../shared/data/coldstart/<dataset>/C1: train on train.tsv (the rating is the
 * interaction strength); for each user with a test rating >= 4, rank only the cold items (known
 * by their metadata alone: genres, title, release date or the year in the title; no user tags)
 * and keep the top 10; relevant = test rating >= 4; metrics as in B2 (rankingMetrics).
 * Settings of the content rows are chosen on the validation carve (val_train / val_test /
 * val_cold_items, built the same way from train.tsv), then measured once on the test fold.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { interactionsFromArrays, type InteractionData } from '../src/data/interactions.js';
import { meanMetrics, rankingMetrics, type RankingMetrics } from '../src/eval/metrics.js';
import { readRatingFile } from '../src/eval/rating-file.js';
import { parseMovieLensDate, titleYear } from '../src/ingest/importers/movielens.js';
import { ContentModel } from '../src/models/content/content-model.js';
import type { ItemContent } from '../src/models/content/vectorize.js';
import type { Params } from '../src/models/params.js';

const DATA = path.resolve('../shared/data');

interface Catalogue {
  ids: string[];
  items: ItemContent[];
}

interface Fold {
  train: InteractionData;
  cold: Int32Array;
  /** Relevant cold items by user index (users with at least one). */
  relevant: Map<number, Set<number>>;
}

/** Genres, title (without the year) and release date of every film. */
export function movieCatalogue(dataset: string): Catalogue {
  const ids: string[] = [];
  const items: ItemContent[] = [];
  if (dataset === 'ml-100k') {
    const dir = path.join(DATA, 'ml-100k');
    const genres = readFileSync(path.join(dir, 'u.genre'), 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|')[0]);
    for (const line of readFileSync(path.join(dir, 'u.item'), 'latin1').split('\n')) {
      if (line.length === 0) continue;
      const f = line.split('|');
      ids.push(f[0]);
      items.push({
        title: f[1].replace(/\s*\(\d{4}\)\s*$/, ''),
        categories: genres.filter((g, k) => f[5 + k] === '1' && g !== 'unknown'),
        publishedAt: parseMovieLensDate(f[2]),
      });
    }
    return { ids, items };
  }
  const rows = parse(readFileSync(path.join(DATA, dataset, 'movies.csv'), 'utf8'), {
    from_line: 2,
  }) as string[][];
  for (const [id, title, genres] of rows) {
    ids.push(id);
    const year = titleYear(title);
    items.push({
      title: title.replace(/\s*\(\d{4}(?:[–-]\d{0,4})?\)\s*$/, ''),
      categories: genres === '(no genres listed)' ? [] : genres.split('|'),
      publishedAt: year === null ? null : Date.UTC(year, 0, 1),
    });
  }
  return { ids, items };
}

/** The C1 fold (test, or the validation carve) of a dataset, on the catalogue's item indices. */
export function coldItemFold(dataset: string, catalogue: Catalogue, validation: boolean): Fold {
  const dir = path.join(DATA, 'coldstart', dataset, 'C1');
  const prefix = validation ? 'val_' : '';
  const train = readRatingFile(path.join(dir, `${prefix}train.tsv`));
  const test = readRatingFile(path.join(dir, `${prefix}test.tsv`));
  const coldIds = readFileSync(path.join(dir, `${prefix}cold_items.txt`), 'utf8')
    .split('\n')
    .filter(Boolean);
  const data = interactionsFromArrays({
    userIds: train.users,
    itemIds: train.items,
    strengths: train.ratings,
    timestamps: train.timestamps,
    catalog: catalogue.ids,
  });
  const cold = Int32Array.from(coldIds.map((id) => data.items.getOrAdd(id)));
  const relevant = new Map<number, Set<number>>();
  for (let e = 0; e < test.length; e++) {
    if (!(test.ratings[e] >= 4)) continue;
    // A test user without training rows is still ranked (empty history).
    const u = data.users.getOrAdd(test.users[e]);
    const i = data.items.getOrAdd(test.items[e]);
    let set = relevant.get(u);
    if (!set) relevant.set(u, (set = new Set()));
    set.add(i);
  }
  return { train: data, cold, relevant };
}

type ColdScorer = (user: number, history: Int32Array, weights: Float32Array, out: Float32Array) => void;

/** Mean metrics over the fold's users, ranking only the cold items. */
export function evaluateColdItems(fold: Fold, scorer: ColdScorer): RankingMetrics {
  const n = fold.train.items.size;
  const out = new Float32Array(n);
  const m = fold.train.matrix;
  const perUser: RankingMetrics[] = [];
  const order = Array.from(fold.cold);
  for (const [u, relevant] of fold.relevant) {
    const known = u < m.rows;
    const history = known ? m.indices.subarray(m.indptr[u], m.indptr[u + 1]) : new Int32Array(0);
    const weights = known ? m.data.subarray(m.indptr[u], m.indptr[u + 1]) : new Float32Array(0);
    scorer(known ? u : -1, history, weights, out);
    const score = (i: number): number => (Number.isFinite(out[i]) ? out[i] : -Infinity);
    order.sort((a, b) => score(b) - score(a) || a - b);
    perUser.push(rankingMetrics(order.slice(0, 10), relevant, 10));
  }
  return meanMetrics(perUser);
}

interface Row {
  name: string;
  settings: string;
  metrics: RankingMetrics;
  fitSeconds: number;
}

function randomScorer(seed: number): ColdScorer {
  let s = seed >>> 0;
  return (_u, _h, _w, out) => {
    for (let i = 0; i < out.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      out[i] = s / 2 ** 32;
    }
  };
}

/** Genre popularity: a cold item scores the mean training count of the items sharing each of its genres. */
function genrePopularity(fold: Fold, catalogue: Catalogue): { scorer: ColdScorer; seconds: number } {
  const start = performance.now();
  const n = fold.train.items.size;
  const counts = new Float64Array(n);
  const m = fold.train.matrix;
  for (let p = 0; p < m.indptr[m.rows]; p++) counts[m.indices[p]]++;
  const sum = new Map<string, number>();
  const num = new Map<string, number>();
  for (let i = 0; i < catalogue.items.length; i++) {
    for (const g of catalogue.items[i].categories ?? []) {
      sum.set(g, (sum.get(g) ?? 0) + counts[i]);
      num.set(g, (num.get(g) ?? 0) + 1);
    }
  }
  const prior = new Float32Array(n);
  for (let i = 0; i < catalogue.items.length; i++) {
    const gs = catalogue.items[i].categories ?? [];
    let s = 0;
    for (const g of gs) s += (sum.get(g) ?? 0) / (num.get(g) ?? 1);
    prior[i] = gs.length > 0 ? s / gs.length : 0;
  }
  const seconds = (performance.now() - start) / 1000;
  return { scorer: (_u, _h, _w, out) => out.set(prior), seconds };
}

async function contentRow(
  fold: Fold,
  catalogue: Catalogue,
  params: Params,
): Promise<{ metrics: RankingMetrics; fitSeconds: number }> {
  const model = await ContentModel.fitContent(fold.train, padded(catalogue, fold.train.items.size), params);
  const metrics = evaluateColdItems(fold, (userIndex, history, historyWeights, out) =>
    model.score({ userIndex, history, historyWeights }, out),
  );
  return { metrics, fitSeconds: model.info.fitSeconds };
}

/** The catalogue's items, plus empty descriptions for ids seen only in ratings. */
function padded(catalogue: Catalogue, size: number): ItemContent[] {
  const items = catalogue.items.slice();
  while (items.length < size) items.push({});
  return items;
}

const GENRES_ONLY: Params = { titleWeight: 0, numericWeight: 0 };

/** Candidate settings of each content row, tried on the validation carve. */
const CANDIDATES: Record<string, Params[]> = {
  'content kNN (genres, BM25 profile)': [{ ...GENRES_ONLY, collaborative: false }],
  'content profile (genres, title, year)': [0, 0.5].flatMap((titleWeight) =>
    [0.25, 0.5, 1].map((numericWeight) => ({ titleWeight, numericWeight, collaborative: false })),
  ),
  'hybrid: content → ALS factors (genres only)': [1, 3].map((ridge) => ({ ...GENRES_ONLY, ridge })),
  'hybrid: content → ALS factors (genres, title, year)': [0, 0.5].flatMap((titleWeight) =>
    [0.5, 1].flatMap((numericWeight) => [1, 3].map((ridge) => ({ titleWeight, numericWeight, ridge }))),
  ),
};

function fmt(params: Params): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

async function runDataset(dataset: string): Promise<void> {
  const catalogue = movieCatalogue(dataset);
  const val = coldItemFold(dataset, catalogue, true);
  const test = coldItemFold(dataset, catalogue, false);
  console.log(
    `\n## C1 ${dataset}: ${test.cold.length} cold items, ${test.relevant.size} users ` +
      `(validation: ${val.cold.length} cold items, ${val.relevant.size} users)`,
  );
  const rows: Row[] = [];
  rows.push({
    name: 'random',
    settings: 'seed 42',
    metrics: evaluateColdItems(test, randomScorer(42)),
    fitSeconds: 0,
  });
  const pop = genrePopularity(test, catalogue);
  rows.push({
    name: 'genre popularity',
    settings: '',
    metrics: evaluateColdItems(test, pop.scorer),
    fitSeconds: pop.seconds,
  });
  for (const [name, candidates] of Object.entries(CANDIDATES)) {
    let best: { params: Params; ndcg: number } | null = null;
    for (const params of candidates) {
      const { metrics } = await contentRow(val, catalogue, params);
      if (!best || metrics.ndcg > best.ndcg) best = { params, ndcg: metrics.ndcg };
    }
    if (!best) continue;
    const { metrics, fitSeconds } = await contentRow(test, catalogue, best.params);
    rows.push({
      name,
      settings: `${fmt(best.params)} (validation NDCG@10 ${best.ndcg.toFixed(4)}, ${candidates.length} tried)`,
      metrics,
      fitSeconds,
    });
  }
  console.log('\n| model | NDCG@10 | P@10 | Recall@10 | fit s | settings (chosen on validation) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.metrics.ndcg.toFixed(4)} | ${r.metrics.precision.toFixed(4)} | ` +
        `${r.metrics.recall.toFixed(4)} | ${r.fitSeconds.toFixed(2)} | ${r.settings} |`,
    );
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const datasets = (arg('--datasets') ?? 'ml-100k,ml-latest-small').split(',');
  for (const d of datasets) await runDataset(d);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
