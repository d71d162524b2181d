/**
 * Protocol C2 of ../shared/BENCHMARKS.md (cold users with three onboarding ratings) on
 * MovieLens 100K and ml-latest-small, with the fixed splits of ../shared/data/coldstart.
 *
 *   node dist/bench/c2-cold-users.js [--datasets ml-100k,ml-latest-small] [--params JSON]
 *
 * Every model trains on `train.tsv` (every rating an interaction, its value the strength; the
 * cold users' three onboarding answers included), and each cold user with a relevant test item
 * (rating >= 4) gets a top-10 over every item not in their train rows.
 *
 * The hybrid's blend (prior shrinkage c, collaborative shrinkage c_cf) serves cold and warm users
 * alike, so it is chosen by the sum of two validation NDCG@10 figures, never by test: the cold
 * users of the dataset's C2 carve (`val_*`) and the warm users of the B2 carve of u1.base (20% of
 * each user's ratings, seed 42). The hybrid is then also measured on protocol B2 (warm users,
 * trained on ratings >= 4) beside the collaborative model it blends in.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { interactionsFromArrays, type InteractionData } from '../src/data/interactions.js';
import { holdoutPerUser } from '../src/eval/holdout.js';
import { readRatingFile, selectRows, type RatingRows } from '../src/eval/rating-file.js';
import { evaluateTopK, type TopKResult } from '../src/eval/topk-protocol.js';
import { buildFeatures, type FeatureMatrix } from '../src/models/hybrid/features.js';
import { hybridFamily, HybridModel, type HybridFeatures } from '../src/models/hybrid/hybrid.js';
import { movieLabels, userLabels } from '../src/models/hybrid/movielens-features.js';
import type { Recommender } from '../src/models/model.js';
import type { Params } from '../src/models/params.js';
import { createModel } from '../src/models/registry.js';

const DATA = path.resolve('../shared/data');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Test rows of the listed users only. */
function rowsOf(rows: RatingRows, users: Set<string>): RatingRows {
  const keep: number[] = [];
  for (let i = 0; i < rows.length; i++) if (users.has(rows.users[i])) keep.push(i);
  return selectRows(rows, keep);
}

function readIds(file: string): Set<string> {
  return new Set(readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean));
}

interface Split {
  data: InteractionData;
  train: RatingRows;
  test: RatingRows;
  features: HybridFeatures;
}

function loadSplit(
  dataset: string,
  prefix: '' | 'val_',
  items: Map<string, string[]>,
  users: Map<string, string[]>,
): Split {
  const dir = path.join(DATA, 'coldstart', dataset, 'C2');
  const train = readRatingFile(path.join(dir, `${prefix}train.tsv`));
  const cold = readIds(path.join(dir, `${prefix}cold_users.txt`));
  const test = rowsOf(readRatingFile(path.join(dir, `${prefix}test.tsv`)), cold);
  const data = interactionsFromArrays({
    userIds: train.users,
    itemIds: train.items,
    strengths: train.ratings,
    timestamps: train.timestamps,
    catalog: [...items.keys()],
  });
  const itemFeatures: FeatureMatrix = buildFeatures(
    data.items.size,
    (i) => items.get(data.items.id(i)) ?? [],
  );
  const userFeatures: FeatureMatrix | undefined =
    users.size > 0 ? buildFeatures(data.users.size, (u) => users.get(data.users.id(u)) ?? []) : undefined;
  return {
    data,
    train,
    test,
    features: { items: itemFeatures, ...(userFeatures ? { users: userFeatures } : {}) },
  };
}

function evaluate(model: Recommender, s: Split): TopKResult {
  return evaluateTopK(model, s.data, s.test, { k: 10, threshold: 4, seen: s.train });
}

const fmt = (r: TopKResult): string =>
  `${r.ndcg.toFixed(4)} | ${r.precision.toFixed(4)} | ${r.recall.toFixed(4)}`;

const SHRINKAGE = [0.5, 1, 2, 3, 5, 8];
const CF_SHRINKAGE = [5, 10, 15, 20, 30];
const key = (c: number, cCf: number): string => `${c}/${cCf}`;

/** Validation NDCG@10 of every blend setting (c, c_cf) of one fitted model. */
function blendGrid(model: HybridModel, run: (m: HybridModel) => TopKResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of SHRINKAGE)
    for (const cCf of CF_SHRINKAGE) out.set(key(c, cCf), run(model.withBlend(c, cCf)).ndcg);
  return out;
}

interface Blend {
  shrinkage: number;
  cfShrinkage: number;
  cold: number;
  warm: number;
}

/** The setting with the best sum of cold (C2 carve) and warm (B2 carve) validation NDCG@10. */
function chooseBlend(cold: Map<string, number>, warm: Map<string, number> | null): Blend {
  let best: Blend = { shrinkage: 0, cfShrinkage: 0, cold: -1, warm: -1 };
  for (const c of SHRINKAGE) {
    for (const cCf of CF_SHRINKAGE) {
      const b = {
        shrinkage: c,
        cfShrinkage: cCf,
        cold: cold.get(key(c, cCf))!,
        warm: warm?.get(key(c, cCf)) ?? 0,
      };
      if (b.cold + b.warm > best.cold + best.warm) best = b;
    }
  }
  return best;
}

interface B2Data {
  base: RatingRows;
  test: RatingRows;
  catalog: string[];
}

function loadB2(): B2Data | null {
  const ML = path.join(DATA, 'ml-100k');
  if (!existsSync(path.join(ML, 'u1.base'))) return null;
  const catalog = readFileSync(path.join(ML, 'u.item'), 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|')[0]);
  return {
    base: readRatingFile(path.join(ML, 'u1.base')),
    test: readRatingFile(path.join(ML, 'u1.test')),
    catalog,
  };
}

/** B2 training data: the ratings >= 4 of `rows` (the variant the B2 collaborative settings use). */
function positives(rows: RatingRows, catalog: string[]): InteractionData {
  const pos = selectRows(
    rows,
    rows.ratings.reduce<number[]>((a, r, i) => (r >= 4 ? (a.push(i), a) : a), []),
  );
  return interactionsFromArrays({
    userIds: pos.users,
    itemIds: pos.items,
    strengths: pos.ratings,
    timestamps: pos.timestamps,
    catalog,
  });
}

/** Warm validation: the blend grid on the B2 carve of u1.base (20% of each user's ratings, seed 42). */
async function warmGrid(b2: B2Data, hybridParams: Params): Promise<Map<string, number>> {
  const split = holdoutPerUser(b2.base, 0.2, 42);
  const vTrain = selectRows(b2.base, split.train);
  const vTest = selectRows(b2.base, split.heldOut);
  const vData = positives(vTrain, b2.catalog);
  const model = await HybridModel.fit(vData, hybridParams);
  return blendGrid(model, (m) => evaluateTopK(m, vData, vTest, { k: 10, threshold: 4, seen: vTrain }));
}

async function runDataset(
  dataset: string,
  hybridParams: Params,
  warm: Map<string, number> | null,
): Promise<Blend> {
  const items = movieLabels(path.join(DATA, dataset));
  const users = userLabels(path.join(DATA, dataset));
  const val = loadSplit(dataset, 'val_', items, users);
  const test = loadSplit(dataset, '', items, users);
  const row = (name: string, r: TopKResult, note = ''): void =>
    console.log(`| ${dataset} | ${name} | ${fmt(r)} | ${note} |`);

  const pop = await createModel('popularity', { mode: 'users' }).fit(test.data);
  row('popularity (distinct users)', evaluate(pop, test));
  const als = await createModel('als', {
    factors: 128,
    regularization: 30,
    alpha: 0.3,
    confidence: 'bm25',
  }).fit(test.data);
  row('ALS (onboarding rows folded in)', evaluate(als, test), '128 factors, B2 settings');
  const knn = await createModel('item-knn', { similarity: 'bm25', k: 400 }).fit(test.data);
  row('item-kNN', evaluate(knn, test), 'bm25, k 400');

  const valModel = await HybridModel.fitWithFeatures(val.data, hybridParams, val.features);
  const blend = chooseBlend(
    blendGrid(valModel, (m) => evaluate(m, val)),
    warm,
  );
  console.log(
    `  ${dataset} validation: c ${blend.shrinkage}, c_cf ${blend.cfShrinkage}: cold NDCG@10 ${blend.cold.toFixed(4)}` +
      (warm ? `, warm (B2 carve) ${blend.warm.toFixed(4)}` : ''),
  );
  const model = await HybridModel.fitWithFeatures(test.data, hybridParams, test.features);
  const features = `${test.features.users ? 'user attributes + ' : ''}genres, decade`;
  row('hybrid factorisation alone', evaluate(model.withBlend(0, 1e9), test), `features: ${features}`);
  row(
    'hybrid blend (prior + features + ALS)',
    evaluate(model.withBlend(blend.shrinkage, blend.cfShrinkage), test),
    `c ${blend.shrinkage}, c_cf ${blend.cfShrinkage} (validation)`,
  );
  return blend;
}

/** B2 (warm users) for the collaborative model alone and the hybrid blend with the chosen settings. */
async function runB2(b2: B2Data, hybridParams: Params, blends: Params[]): Promise<void> {
  const data = positives(b2.base, b2.catalog);
  const measure = async (name: string, params: Params): Promise<void> => {
    // The hybrid family goes through its family object (the same path as createModel once registered).
    const model =
      name === 'hybrid' ? await hybridFamily.fit(data, params) : await createModel(name, params).fit(data);
    const r = evaluateTopK(model, data, b2.test, { k: 10, threshold: 4, seen: b2.base });
    console.log(`| B2 | ${name} ${JSON.stringify(params)} | ${fmt(r)} | ${r.users} users |`);
  };
  await measure('als', { factors: 128, regularization: 30, alpha: 0.3, confidence: 'bm25' });
  await measure('hybrid', { ...hybridParams, cf: 'none' });
  for (const b of blends) await measure('hybrid', { ...hybridParams, ...b });
}

async function main(): Promise<void> {
  const datasets = (arg('--datasets') ?? 'ml-100k,ml-latest-small').split(',');
  const hybridParams: Params = JSON.parse(arg('--params') ?? '{}');
  const b2 = loadB2();
  const warm = b2 ? await warmGrid(b2, hybridParams) : null;
  console.log('| dataset | model | NDCG@10 | P@10 | Recall@10 | notes |\n|---|---|---|---|---|---|');
  const blends: Params[] = [];
  for (const d of datasets) {
    if (!existsSync(path.join(DATA, 'coldstart', d, 'C2', 'train.tsv'))) {
      console.log(`C2 needs ${path.join(DATA, 'coldstart', d, 'C2')}; it is absent`);
      continue;
    }
    const b = await runDataset(d, hybridParams, warm);
    if (!blends.some((x) => x.shrinkage === b.shrinkage && x.cfShrinkage === b.cfShrinkage)) {
      blends.push({ shrinkage: b.shrinkage, cfShrinkage: b.cfShrinkage });
    }
  }
  if (b2) await runB2(b2, hybridParams, blends);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
