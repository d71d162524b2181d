/**
 * Protocol B2 of ../shared/BENCHMARKS.md: top-10 on MovieLens 100K split u1.
 *
 *   node dist/bench/b2-topk.js [--models a,b] [--search] [--trials N]
 *
 * Without --search each model runs with the settings recorded in bench/settings/b2.json (or its
 * defaults). With --search, settings (the model's search space, and whether to train on every
 * rating or only ratings >= 4) are chosen on a validation split carved out of u1.base (20% of each
 * user's ratings, seeded), recorded in that file, and only then measured on u1.test.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { interactionsFromArrays, type InteractionData } from '../src/data/interactions.js';
import { holdoutPerUser } from '../src/eval/holdout.js';
import { readRatingFile, selectRows, type RatingRows } from '../src/eval/rating-file.js';
import { candidateSettings, searchSettings } from '../src/eval/search.js';
import { evaluateTopK, type TopKResult } from '../src/eval/topk-protocol.js';
import type { Params } from '../src/models/params.js';
import { createModel, modelFamily, modelNames } from '../src/models/registry.js';

const ML = path.resolve('../shared/data/ml-100k');
const SETTINGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/settings/b2.json');

type Variant = 'all' | 'pos4';
interface Recorded {
  variant: Variant;
  params: Params;
  validationNdcg: number;
  trials: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function catalogOf(): string[] {
  const lines = readFileSync(path.join(ML, 'u.item'), 'latin1').split('\n').filter(Boolean);
  return lines.map((l) => l.split('|')[0]);
}

function trainingData(rows: RatingRows, variant: Variant, catalog: string[]): InteractionData {
  const keep =
    variant === 'pos4' ? rows.ratings.reduce<number[]>((a, r, i) => (r >= 4 ? (a.push(i), a) : a), []) : null;
  const r = keep ? selectRows(rows, keep) : rows;
  return interactionsFromArrays({
    userIds: r.users,
    itemIds: r.items,
    strengths: r.ratings,
    timestamps: r.timestamps,
    catalog,
  });
}

async function measure(
  name: string,
  params: Params,
  variant: Variant,
  train: RatingRows,
  test: RatingRows,
  catalog: string[],
): Promise<TopKResult & { fitSeconds: number }> {
  const data = trainingData(train, variant, catalog);
  const t0 = performance.now();
  const model = await createModel(name, params).fit(data);
  const fitSeconds = (performance.now() - t0) / 1000;
  return { ...evaluateTopK(model, data, test, { k: 10, threshold: 4, seen: train }), fitSeconds };
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ML, 'u1.base'))) {
    console.log(`B2 needs ${ML}; it is absent`);
    return;
  }
  const base = readRatingFile(path.join(ML, 'u1.base'));
  const test = readRatingFile(path.join(ML, 'u1.test'));
  const catalog = catalogOf();
  const recorded: Record<string, Recorded> = existsSync(SETTINGS)
    ? JSON.parse(readFileSync(SETTINGS, 'utf8'))
    : {};
  const names = arg('--models')?.split(',') ?? modelNames().filter((n) => n !== 'trending');
  const search = process.argv.includes('--search');
  const trialsLimit = Number(arg('--trials') ?? 40);

  const rows: string[] = [];
  let users = 0;
  for (const name of names) {
    let setting: Recorded = recorded[name] ?? { variant: 'all', params: {}, validationNdcg: NaN, trials: 0 };
    if (search) {
      const split = holdoutPerUser(base, 0.2, 42);
      const vTrain = selectRows(base, split.train);
      const vTest = selectRows(base, split.heldOut);
      const space = modelFamily(name).searchSpace ?? {};
      const settings = candidateSettings({ ...space, variant: ['all', 'pos4'] }, trialsLimit, 7);
      const { best, trials } = await searchSettings(
        settings,
        async (p) => {
          const { variant, ...params } = p;
          const r = await measure(name, params, variant as Variant, vTrain, vTest, catalog);
          return { score: r.ndcg, result: r };
        },
        (t, i) =>
          console.log(
            `  ${name} trial ${i + 1}/${settings.length} ${JSON.stringify(t.params)} validation NDCG@10 ${t.score.toFixed(4)}`,
          ),
      );
      const { variant, ...params } = best.params;
      setting = { variant: variant as Variant, params, validationNdcg: best.score, trials: trials.length };
      recorded[name] = setting;
      const latest: Record<string, Recorded> = existsSync(SETTINGS)
        ? JSON.parse(readFileSync(SETTINGS, 'utf8'))
        : {};
      writeFileSync(SETTINGS, JSON.stringify({ ...latest, [name]: setting }, null, 2) + '\n');
    }
    const r = await measure(name, setting.params, setting.variant, base, test, catalog);
    users = r.users;
    const line = `| ${name} | ${r.precision.toFixed(4)} | ${r.recall.toFixed(4)} | ${r.ndcg.toFixed(4)} | ${r.map.toFixed(4)} | ${r.fitSeconds.toFixed(2)} | ${setting.variant} ${JSON.stringify(setting.params)} |`;
    console.log(line);
    rows.push(line);
  }
  console.log(`
B2, MovieLens 100K u1, averaged over ${users} users with a relevant item
`);
  console.log(
    '| model | P@10 | Recall@10 | NDCG@10 | MAP@10 | fit s | settings |\n|---|---|---|---|---|---|---|',
  );
  for (const r of rows) console.log(r);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
