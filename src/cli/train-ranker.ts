import { defaultRankerModelPath } from '../pipeline/ranking/learned-ranker.js';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ValidationError } from '../domain/errors.js';
import {
  RANKING_OBJECTIVES,
  saveRankerModel,
  type RankerModel,
  type RankingObjective,
} from '../pipeline/ranking/learned-ranker.js';
import { trainRankerFromLog, type TrainFromLogReport } from '../pipeline/ranking/train-from-log.js';
import type { RecommendationLog } from '../serving/recommendation-log.js';
import { configFrom, openEngine, positiveInt, withStoreOptions, type StoreFlags } from './common.js';

/** The engine's recommendation log; throws when the engine keeps none. */
export function recommendationLogOf(engine: object): RecommendationLog {
  const log = (engine as { recommendationLog?: RecommendationLog }).recommendationLog;
  if (!log || typeof log.scan !== 'function')
    throw new ValidationError('this engine keeps no recommendation log to train a ranker from');
  return log;
}

/** Where a placement's ranking model is saved by default: `<modelsDir>/rankers/<placement or all>.json`. */

function parseSince(raw: string): number {
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw new ValidationError(`--since must be an ISO date or time, got '${raw}'`);
  return t;
}

function parseFraction(raw: string): number {
  const x = Number(raw);
  if (!(x >= 0 && x < 1)) throw new ValidationError(`--holdout must be a number in [0, 1), got '${raw}'`);
  return x;
}

function parsePositive(flag: string): (raw: string) => number {
  return (raw: string) => {
    const x = Number(raw);
    if (!(x >= 0) || !Number.isFinite(x))
      throw new ValidationError(`${flag} must be a number ≥ 0, got '${raw}'`);
    return x;
  };
}

const auc = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : '-');

/** The report and the model's strongest features as text tables. */
export function formatRankerReport(report: TrainFromLogReport, model: RankerModel, topFeatures = 10): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const trainLists = report.lists - report.holdoutLists;
  const trainImpressions = report.impressions - report.holdoutImpressions;
  const lines = [
    `| ${report.objective} ranker | lists | impressions | positives | AUC model | AUC served order |`,
    '|---|---|---|---|---|---|',
    `| train | ${n(trainLists)} | ${n(trainImpressions)} | ${n(report.positives - report.holdoutPositives)} | ${auc(report.trainAuc)} | |`,
    `| held out | ${n(report.holdoutLists)} | ${n(report.holdoutImpressions)} | ${n(report.holdoutPositives)} | ${auc(report.holdoutAuc)} | ${auc(report.blendHoldoutAuc)} |`,
  ];
  const s = report.skipped;
  const skips = [
    s.listsWithoutFeatures > 0 ? `${n(s.listsWithoutFeatures)} lists without features` : '',
    s.listsWithOtherFeatures > 0 ? `${n(s.listsWithOtherFeatures)} lists with other features` : '',
    s.listsMalformed > 0 ? `${n(s.listsMalformed)} malformed lists` : '',
    s.itemsNotShown > 0 ? `${n(s.itemsNotShown)} items without an impression` : '',
  ].filter(Boolean);
  if (skips.length > 0) lines.push('', `skipped: ${skips.join(', ')}`);
  const order = Array.from(model.featureNames, (_, f) => f)
    .filter((f) => model.standardisedWeights[f] !== 0)
    .sort((a, b) => Math.abs(model.standardisedWeights[b]) - Math.abs(model.standardisedWeights[a]))
    .slice(0, topFeatures);
  if (order.length > 0) {
    lines.push('', '| feature | weight per sd |', '|---|---|');
    for (const f of order)
      lines.push(
        `| ${model.featureNames[f]} | ${model.standardisedWeights[f] >= 0 ? '+' : ''}${model.standardisedWeights[f].toFixed(3)} |`,
      );
  }
  return lines.join('\n');
}

export function trainRankerCommand(): Command {
  return withStoreOptions(new Command('train-ranker'))
    .description(
      'train the learned ranker from the recommendation log (served lists and the clicks and purchases that followed)',
    )
    .addOption(
      new Option('--objective <objective>', 'what the ranker optimises')
        .choices([...RANKING_OBJECTIVES])
        .makeOptionMandatory(),
    )
    .option('--placement <name>', 'only lists served for this placement (default: all placements)')
    .option('--since <iso>', 'only lists served from this date or time on', parseSince)
    .option('--out <file>', 'model file (default: <models dir>/rankers/<placement or all>.json)')
    .option('--holdout <fraction>', 'share of lists held out to evaluate (default 0.2)', parseFraction)
    .option('--seed <n>', 'seed of the held-out split (default 1)', positiveInt('--seed'))
    .option('--l2 <lambda>', 'L2 penalty on standardised features (default 1e-4)', parsePositive('--l2'))
    .option('--min-positives <n>', 'positives needed to train (default 20)', positiveInt('--min-positives'))
    .option(
      '--require-impression',
      'count only items the client reported an impression (or click, cart, purchase) for as shown',
    )
    .action(
      async (
        flags: StoreFlags & {
          objective: RankingObjective;
          placement?: string;
          since?: number;
          out?: string;
          holdout?: number;
          seed?: number;
          l2?: number;
          minPositives?: number;
          requireImpression?: boolean;
        },
      ) => {
        const config = configFrom(flags);
        const out = path.resolve(flags.out ?? defaultRankerModelPath(config.modelsDir, flags.placement));
        const engine = await openEngine(config);
        try {
          const log = recommendationLogOf(engine);
          console.log(
            `reading the recommendation log${flags.placement ? ` for placement '${flags.placement}'` : ''}` +
              `${flags.since !== undefined ? ` since ${new Date(flags.since).toISOString()}` : ''}`,
          );
          const { model, report } = await trainRankerFromLog(log, {
            objective: flags.objective,
            placement: flags.placement,
            since: flags.since,
            holdoutFraction: flags.holdout,
            seed: flags.seed,
            l2: flags.l2,
            minPositives: flags.minPositives,
            requireImpression: flags.requireImpression,
            progress: (m) => console.log(m),
          });
          console.log(formatRankerReport(report, model));
          if (report.holdoutLists > 0 && !(report.holdoutAuc > report.blendHoldoutAuc))
            console.log(
              `note: on the held-out lists the model orders ${report.objective === 'click' ? 'clicks' : 'purchases'} no better than the served order`,
            );
          saveRankerModel(out, model);
          console.log(`model: ${out}`);
        } finally {
          await engine.close();
        }
      },
    );
}

export { defaultRankerModelPath };
