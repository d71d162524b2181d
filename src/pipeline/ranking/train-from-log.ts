/**
 * Trains a learned ranker from the recommendation log: every served item becomes a logged
 * impression with the features it was ranked on and what followed (clicks, purchases, revenue),
 * and a logistic model is fitted for the chosen objective (learned-ranker.ts).
 *
 * What counts as shown: by default every served item counts as an impression, whether or not
 * the client sent an `impression` event for it (most clients send only clicks and purchases).
 * With `requireImpression`, only items with an impression event count (a click, cart or
 * purchase implies one, so those count too); use it when clients report what was actually
 * displayed, e.g. a list cut by the screen.
 *
 * Evaluation: a seeded share of whole lists (not rows) is held out; the report gives the area
 * under the ROC curve within lists (how often a positive is ordered above a negative of the
 * same list) on the training and the held-out lists, and, as the baseline, that of the served
 * order itself (what the ranker that served the lists, usually the score blend, did). For the
 * revenue objective the AUCs are of purchases (revenue weighs the fit, not the evaluation).
 *
 * The model is fitted on the training lists only, so the held-out figure is the returned
 * model's; with `holdoutFraction: 0` it is fitted on everything and reports no held-out AUC.
 */
import { ValidationError } from '../../domain/errors.js';
import type {
  ItemOutcome,
  RecommendationLog,
  ServedRecommendation,
} from '../../serving/recommendation-log.js';
import {
  binaryAuc,
  examplesFromImpressions,
  scoreRows,
  trainRanker,
  type LoggedImpression,
  type RankerModel,
  type RankingObjective,
} from './learned-ranker.js';

export interface TrainFromLogOptions {
  objective: RankingObjective;
  /** Only lists served for this placement (default all). */
  placement?: string;
  /** Only lists served from this time on (ms). */
  since?: number;
  /** Count only items with an impression (or click, cart, purchase) event as shown (default false). */
  requireImpression?: boolean;
  /**
   * Features to train on, mapped by name onto each list's logged rows; lists lacking one are
   * skipped (default: the features of the first list logged with features).
   */
  featureNames?: readonly string[];
  /** Positives of the objective the training lists must hold (default 20). */
  minPositives?: number;
  /** Impressions the training lists must hold (default 100). */
  minImpressions?: number;
  /** Share of lists held out for evaluation, in [0, 1) (default 0.2). */
  holdoutFraction?: number;
  /** Seed of the held-out split (default 1). */
  seed?: number;
  /** L2 penalty on standardised features (default 1e-4). */
  l2?: number;
  /** Newton iterations at most (default 30). */
  maxIterations?: number;
  /** Cap on a purchase's weight under the revenue objective, in mean purchases (default 20). */
  revenueWeightCap?: number;
  /** Fit only on lists with at least one positive (default false). */
  dropListsWithoutPositives?: boolean;
  /** Item index of an id, recorded in the impressions (default -1). */
  itemIndexOf?: (itemId: string) => number;
  /** Progress messages. */
  progress?: (message: string) => void;
}

export interface TrainFromLogSkipped {
  /** Lists logged without feature rows. */
  listsWithoutFeatures: number;
  /** Lists whose rows lack some of the trained features. */
  listsWithOtherFeatures: number;
  /** Lists with rows of the wrong length. */
  listsMalformed: number;
  /** Served items not counted as shown (only with `requireImpression`). */
  itemsNotShown: number;
}

export interface TrainFromLogReport {
  objective: RankingObjective;
  placement: string | null;
  since: number | null;
  /** Lists, impressions and positives (of the objective; purchases for revenue) used, both splits. */
  lists: number;
  impressions: number;
  positives: number;
  holdoutLists: number;
  holdoutImpressions: number;
  holdoutPositives: number;
  featureNames: string[];
  /** Within-list AUC of the model on the training lists. */
  trainAuc: number;
  /** Within-list AUC of the model on the held-out lists (NaN without a held-out pair). */
  holdoutAuc: number;
  /** Within-list AUC of the served order on the held-out lists: the baseline to beat. */
  blendHoldoutAuc: number;
  skipped: TrainFromLogSkipped;
}

export interface TrainFromLogResult {
  model: RankerModel;
  report: TrainFromLogReport;
}

/** The log holds too little to train a ranker for an objective. */
export class InsufficientLogError extends ValidationError {
  constructor(
    message: string,
    readonly objective: RankingObjective,
    readonly counts: { lists: number; impressions: number; positives: number },
  ) {
    super(message);
    this.name = 'InsufficientLogError';
  }
}

const POSITIVE_NOUN: Record<RankingObjective, string> = {
  click: 'clicks',
  purchase: 'purchases',
  revenue: 'purchases',
};

/** Uniform number in [0, 1) from a list id and a seed (FNV-1a, then a murmur3 finaliser). */
export function listHash(id: string, seed: number): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * Columns of `wanted` in a list's logged feature names; null when one is missing. `identity`
 * when the logged rows are already laid out as wanted.
 */
function columnsFor(logged: readonly string[], wanted: readonly string[]): Int32Array | 'identity' | null {
  if (logged.length === wanted.length && logged.every((n, i) => n === wanted[i])) return 'identity';
  const at = new Map<string, number>();
  logged.forEach((n, i) => {
    if (!at.has(n)) at.set(n, i);
  });
  const cols = new Int32Array(wanted.length);
  for (let f = 0; f < wanted.length; f++) {
    const c = at.get(wanted[f]);
    if (c === undefined) return null;
    cols[f] = c;
  }
  return cols;
}

function outcomeAt(
  outcomes: readonly ItemOutcome[],
  served: ServedRecommendation,
  j: number,
): ItemOutcome | null {
  const id = served.items[j];
  const o = outcomes[j];
  if (o && o.rank === j + 1 && o.itemId === id) return o;
  return outcomes.find((x) => x.rank === j + 1 && x.itemId === id) ?? null;
}

export interface ImpressionsFromServedOptions {
  /** Features to lay the rows out as (default the logged ones). */
  featureNames?: readonly string[];
  requireImpression?: boolean;
  itemIndexOf?: (itemId: string) => number;
}

/**
 * The impressions of one served list: position = rank − 1, clicked / purchased when the item
 * had at least one click / purchase, revenue the purchases' revenue. Feature rows are views of
 * (or, when the features must be rearranged, copies from) the logged rows; null when the list
 * was logged without features or lacks one of `featureNames`.
 */
export function impressionsFromServed(
  served: ServedRecommendation,
  outcomes: readonly ItemOutcome[],
  options: ImpressionsFromServedOptions = {},
): LoggedImpression[] {
  const f = served.features;
  const n = served.items.length;
  const F = f ? f.names.length : 0;
  const wanted = options.featureNames ?? f?.names ?? [];
  const cols = f && f.rows.length === F * n ? columnsFor(f.names, wanted) : null;
  const result: LoggedImpression[] = [];
  for (let j = 0; j < n; j++) {
    const o = outcomeAt(outcomes, served, j);
    const clicks = o?.clicks ?? 0;
    const purchases = o?.purchases ?? 0;
    if (options.requireImpression && !(o && o.impressions + clicks + o.carts + purchases > 0)) continue;
    let row: Float32Array | null = null;
    if (f && cols === 'identity') row = f.rows.subarray(j * F, j * F + F);
    else if (f && cols instanceof Int32Array) {
      row = new Float32Array(cols.length);
      for (let c = 0; c < cols.length; c++) row[c] = f.rows[j * F + cols[c]];
    }
    result.push({
      recommendationId: served.id,
      userId: served.userId,
      itemIndex: options.itemIndexOf ? options.itemIndexOf(served.items[j]) : -1,
      position: j,
      featureRow: row,
      clicked: clicks > 0,
      purchased: purchases > 0,
      revenue: purchases > 0 && o && Number.isFinite(o.revenue) ? o.revenue : 0,
      time: served.servedAt,
    });
  }
  return result;
}

const isPositive = (objective: RankingObjective, imp: LoggedImpression): boolean =>
  objective === 'click' ? imp.clicked : imp.purchased;

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Trains a ranking model for an objective from the served lists of a recommendation log. */
export async function trainRankerFromLog(
  log: RecommendationLog,
  options: TrainFromLogOptions,
): Promise<TrainFromLogResult> {
  const { objective } = options;
  const holdoutFraction = options.holdoutFraction ?? 0.2;
  if (!(holdoutFraction >= 0 && holdoutFraction < 1))
    throw new RangeError(`holdoutFraction must be in [0, 1), got ${holdoutFraction}`);
  const seed = options.seed ?? 1;
  const minPositives = options.minPositives ?? 20;
  const minImpressions = options.minImpressions ?? 100;
  const progress = options.progress ?? (() => undefined);

  const skipped: TrainFromLogSkipped = {
    listsWithoutFeatures: 0,
    listsWithOtherFeatures: 0,
    listsMalformed: 0,
    itemsNotShown: 0,
  };
  let names: readonly string[] | null = options.featureNames ? [...options.featureNames] : null;
  const train: LoggedImpression[] = [];
  const holdout: LoggedImpression[] = [];
  let trainLists = 0;
  let holdoutLists = 0;
  let scanned = 0;

  const scan = log.scan({ since: options.since, placement: options.placement });
  for await (const { served, outcomes } of scan) {
    scanned++;
    if (scanned % 10_000 === 0)
      progress(`scanned ${fmt(scanned)} lists: ${fmt(train.length + holdout.length)} impressions kept`);
    const f = served.features;
    if (!f) {
      skipped.listsWithoutFeatures++;
      continue;
    }
    if (f.rows.length !== f.names.length * served.items.length) {
      skipped.listsMalformed++;
      continue;
    }
    names ??= [...f.names];
    const imps = impressionsFromServed(served, outcomes, {
      featureNames: names,
      requireImpression: options.requireImpression,
      itemIndexOf: options.itemIndexOf,
    });
    skipped.itemsNotShown += served.items.length - imps.length;
    if (imps.length === 0) continue;
    if (imps[0].featureRow === null) {
      skipped.listsWithOtherFeatures++;
      continue;
    }
    if (holdoutFraction > 0 && listHash(served.id, seed) < holdoutFraction) {
      holdoutLists++;
      for (const imp of imps) holdout.push(imp);
    } else {
      trainLists++;
      for (const imp of imps) train.push(imp);
    }
  }

  const count = (imps: readonly LoggedImpression[]): number => {
    let c = 0;
    for (const imp of imps) if (isPositive(objective, imp)) c++;
    return c;
  };
  const trainPositives = count(train);
  const holdoutPositives = count(holdout);
  const lists = trainLists + holdoutLists;
  const impressions = train.length + holdout.length;
  const positives = trainPositives + holdoutPositives;
  const counts = { lists, impressions, positives };
  const noun = POSITIVE_NOUN[objective];
  const where = `${options.placement !== undefined ? ` for placement '${options.placement}'` : ''}${
    options.since !== undefined ? ` since ${new Date(options.since).toISOString()}` : ''
  }`;
  if (lists === 0) {
    const why =
      scanned === 0
        ? 'it holds no served lists'
        : `none of its ${fmt(scanned)} served lists has usable ranker features` +
          ` (${fmt(skipped.listsWithoutFeatures)} logged without features, ${fmt(skipped.listsWithOtherFeatures)} with other features)`;
    throw new InsufficientLogError(
      `cannot train a ${objective} ranker from the recommendation log${where}: ${why}; ranking falls back to the score blend until it does`,
      objective,
      counts,
    );
  }
  if (trainPositives < minPositives || train.length < minImpressions) {
    const short =
      trainPositives < minPositives
        ? `too few ${noun} to train a ${objective} ranker: ${fmt(trainPositives)} ${noun} in the ${fmt(train.length)} training impressions (at least ${fmt(minPositives)} needed)`
        : `too few impressions to train a ${objective} ranker: ${fmt(train.length)} training impressions (at least ${fmt(minImpressions)} needed)`;
    throw new InsufficientLogError(
      `${short}; the log${where} holds ${fmt(positives)} ${noun} in ${fmt(impressions)} impressions of ${fmt(lists)} lists` +
        (holdoutLists > 0 ? `, ${fmt(holdoutLists)} of them held out` : ''),
      objective,
      counts,
    );
  }
  const featureNames = [...(names ?? [])];
  progress(
    `training a ${objective} ranker on ${fmt(train.length)} impressions of ${fmt(trainLists)} lists ` +
      `(${fmt(trainPositives)} ${noun}, ${featureNames.length} features); ${fmt(holdoutLists)} lists held out`,
  );

  const exOptions = { cols: featureNames.length, revenueWeightCap: options.revenueWeightCap };
  const trainEx = examplesFromImpressions(train, objective, exOptions);
  const model = trainRanker(trainEx, {
    objective,
    featureNames,
    l2: options.l2,
    maxIterations: options.maxIterations,
    dropGroupsWithoutPositives: options.dropListsWithoutPositives,
  });
  const trainAuc = binaryAuc(
    scoreRows(model, trainEx.features, trainEx.rows),
    trainEx.labels,
    trainEx.groups,
  );
  let holdoutAuc = NaN;
  let blendHoldoutAuc = NaN;
  if (holdout.length > 0) {
    const ex = examplesFromImpressions(holdout, objective, exOptions);
    holdoutAuc = binaryAuc(scoreRows(model, ex.features, ex.rows), ex.labels, ex.groups);
    // Every held-out impression has a row, so example i is impression i.
    const served = Float32Array.from(holdout, (imp) => -imp.position);
    blendHoldoutAuc = binaryAuc(served, ex.labels, ex.groups);
  }

  return {
    model,
    report: {
      objective,
      placement: options.placement ?? null,
      since: options.since ?? null,
      lists,
      impressions,
      positives,
      holdoutLists,
      holdoutImpressions: holdout.length,
      holdoutPositives,
      featureNames,
      trainAuc,
      holdoutAuc,
      blendHoldoutAuc,
      skipped,
    },
  };
}
