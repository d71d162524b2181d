/**
 * Protocol B1 of ../shared/BENCHMARKS.md: rating prediction on the MovieLens 100K official folds.
 *
 *   node dist/bench/b1-ratings.js [--models a,b] [--search] [--trials N] [--folds 1,2,3,4,5]
 *
 * Every model is trained on u{1..5}.base and predicts every rating of u{1..5}.test; the table
 * gives RMSE and MAE (mean over the folds) and the fit seconds per fold. Without --search each
 * model runs with the settings recorded in bench/settings/b1.json (or its defaults). With
 * --search, settings are chosen on a validation split carved out of u1.base alone (15% of each
 * user's ratings, seeded) by validation RMSE, recorded in that file, and only then measured on
 * the folds. The blend is searched after its components and takes their recorded settings.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { interactionsFromArrays, type InteractionData } from '../src/data/interactions.js';
import { holdoutPerUser } from '../src/eval/holdout.js';
import { ratingErrors } from '../src/eval/metrics.js';
import { readRatingFile, selectRows, type RatingRows } from '../src/eval/rating-file.js';
import { candidateSettings, searchSettings } from '../src/eval/search.js';
import { canPredict } from '../src/models/model.js';
import type { Params } from '../src/models/params.js';
import { createModel, modelFamily } from '../src/models/registry.js';
import { RatingBlendModel } from '../src/models/rating/blend.js';
import { BLEND_COMPONENTS } from '../src/models/rating/components.js';

const ML = path.resolve('../shared/data/ml-100k');
const SETTINGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/settings/b1.json');
const MODELS = ['baseline', 'mf-sgd', 'svdpp', 'knn-baseline', RatingBlendModel.modelName];
const VALIDATION_FRACTION = 0.15;
const VALIDATION_SEED = 42;

interface Recorded {
  params: Params;
  validationRmse: number;
  trials: number;
}

interface Measured {
  rmse: number;
  mae: number;
  fitSeconds: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function trainingData(rows: RatingRows): InteractionData {
  return interactionsFromArrays({
    userIds: rows.users,
    itemIds: rows.items,
    strengths: rows.ratings,
    timestamps: rows.timestamps,
  });
}

/**
 * B1 measures rating prediction only: the models fit without the ranking heads that serve
 * top-K lists (those never change a predicted rating, only the fit time).
 */
function ratingOnly(name: string, params: Params): Params {
  if (name === 'mf-sgd' || name === 'svdpp') return { missingRatio: 0, ...params };
  if (name === RatingBlendModel.modelName)
    return { ranking: 'rating', 'mf-sgd.missingRatio': 0, 'svdpp.missingRatio': 0, ...params };
  return params;
}

/** Fits on `train` and predicts every row of `test`. */
async function measure(name: string, params: Params, train: RatingRows, test: RatingRows): Promise<Measured> {
  const data = trainingData(train);
  const t0 = performance.now();
  const model = await createModel(name, ratingOnly(name, params)).fit(data);
  const fitSeconds = (performance.now() - t0) / 1000;
  if (!canPredict(model)) throw new Error(`${name} does not predict ratings`);
  const predicted = new Float64Array(test.length);
  for (let e = 0; e < test.length; e++) {
    predicted[e] = model.predict(data.users.index(test.users[e]), data.items.index(test.items[e]));
  }
  return { ...ratingErrors(predicted, test.ratings), fitSeconds };
}

function readRecorded(): Record<string, Recorded> {
  return existsSync(SETTINGS) ? (JSON.parse(readFileSync(SETTINGS, 'utf8')) as Record<string, Recorded>) : {};
}

/** The blend's parameters with every component's recorded settings, prefixed by its name. */
function blendBase(recorded: Record<string, Recorded>, own: Params): Params {
  const models = String(own.models ?? 'knn-baseline,svdpp,mf-sgd,baseline').split(',');
  const out: Params = {};
  for (const [k, v] of Object.entries(own)) if (!k.includes('.')) out[k] = v;
  for (const name of models) {
    if (!BLEND_COMPONENTS.includes(name)) continue;
    for (const [k, v] of Object.entries(recorded[name]?.params ?? {})) out[`${name}.${k}`] = v;
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ML, 'u1.base'))) {
    console.log(`B1 needs ${ML}; it is absent`);
    return;
  }
  const names = arg('--models')?.split(',') ?? MODELS;
  const folds = (arg('--folds') ?? '1,2,3,4,5').split(',').map(Number);
  const search = process.argv.includes('--search');
  const trialsLimit = Number(arg('--trials') ?? 40);
  const recorded = readRecorded();

  if (search) {
    const base = readRatingFile(path.join(ML, 'u1.base'));
    const split = holdoutPerUser(base, VALIDATION_FRACTION, VALIDATION_SEED);
    const vTrain = selectRows(base, split.train);
    const vTest = selectRows(base, split.heldOut);
    // Components first, so that a blend searched in the same run takes their new settings.
    const order = [...names].sort(
      (a, b) => Number(a === RatingBlendModel.modelName) - Number(b === RatingBlendModel.modelName),
    );
    for (const name of order) {
      const space = modelFamily(name).searchSpace ?? {};
      const isBlend = name === RatingBlendModel.modelName;
      const settings = candidateSettings(space, trialsLimit, 7);
      const { best, trials } = await searchSettings(
        settings,
        async (p) => {
          const params = isBlend ? blendBase(recorded, p) : p;
          const r = await measure(name, params, vTrain, vTest);
          return { score: -r.rmse, result: r };
        },
        (t, i) =>
          console.log(
            `  ${name} trial ${i + 1}/${settings.length} ${JSON.stringify(t.params)} validation RMSE ${(-t.score).toFixed(4)} (fit ${t.result.fitSeconds.toFixed(2)} s)`,
          ),
      );
      const params = isBlend ? blendBase(recorded, best.params) : best.params;
      recorded[name] = { params, validationRmse: -best.score, trials: trials.length };
      writeFileSync(SETTINGS, JSON.stringify({ ...readRecorded(), [name]: recorded[name] }, null, 2) + '\n');
    }
  }

  const rows: string[] = [];
  for (const name of names) {
    const params =
      recorded[name]?.params ?? (name === RatingBlendModel.modelName ? blendBase(recorded, {}) : {});
    let rmse = 0;
    let mae = 0;
    let fit = 0;
    const perFold: string[] = [];
    for (const f of folds) {
      const train = readRatingFile(path.join(ML, `u${f}.base`));
      const test = readRatingFile(path.join(ML, `u${f}.test`));
      const r = await measure(name, params, train, test);
      rmse += r.rmse;
      mae += r.mae;
      fit += r.fitSeconds;
      perFold.push(`u${f} ${r.rmse.toFixed(4)}`);
    }
    const n = folds.length;
    console.log(`  ${name}: ${perFold.join(', ')}`);
    const line = `| ${name} | ${(rmse / n).toFixed(4)} | ${(mae / n).toFixed(4)} | ${(fit / n).toFixed(2)} |`;
    console.log(line);
    rows.push(line);
  }
  console.log(`\nB1, MovieLens 100K folds ${folds.join(', ')} (settings: bench/settings/b1.json)\n`);
  console.log('| model | RMSE | MAE | fit s/fold |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
