/**
 * Trending: time-decayed popularity, the same for every user. Each event adds
 * `strength * 2^(-(reference - t) / halfLife)` to its item; events after the reference time
 * count with weight 1.
 *
 * The reference time is the latest training event (`reference = last-event`, default) or the
 * data snapshot time (`reference = now`). It only rescales all scores by the same factor, so
 * rankings agree; anchoring at the latest event keeps the scores of stale data representable
 * in float32 instead of underflowing to 0.
 */
import type { InteractionData } from '../../data/interactions.js';
import { requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';

const DAY_MS = 86_400_000;

export type TrendingReference = 'last-event' | 'now';

export interface TrendingParams {
  /** Days after which an event counts half. */
  halfLifeDays: number;
  reference: TrendingReference;
}

export class TrendingModel implements SavableRecommender {
  static readonly modelName = 'trending';

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly scores: Float32Array,
    /** The time the decay is anchored at (ms). */
    readonly referenceTime: number,
  ) {}

  static resolveParams(raw?: Params): TrendingParams {
    const r = new ParamReader(TrendingModel.modelName, raw);
    const params: TrendingParams = {
      halfLifeDays: r.number('halfLifeDays', 7, { min: 1e-6 }),
      reference: r.choice<TrendingReference>('reference', 'last-event', ['last-event', 'now']),
    };
    r.done();
    return params;
  }

  static fit(data: InteractionData, raw?: Params): TrendingModel {
    const start = performance.now();
    const params = TrendingModel.resolveParams(raw);
    const reference = params.reference === 'now' ? data.now : (data.lastEventTime ?? data.now);
    const scores = decayedSums(data, reference, params.halfLifeDays * DAY_MS);
    const info = fittedInfo(TrendingModel.modelName, { ...params }, data, secondsSince(start));
    return new TrendingModel(info, data.items.ids.slice(), scores, reference);
  }

  static fromArtifact(artifact: Artifact): TrendingModel {
    const { info, itemIds, extra } = artifact.header;
    expectModel(info, TrendingModel.modelName);
    const reference = typeof extra?.referenceTime === 'number' ? extra.referenceTime : info.trainedAt;
    return new TrendingModel(
      info,
      itemIds,
      requireArray(artifact, 'scores', Float32Array, itemIds.length),
      reference,
    );
  }

  /** Writes the decayed popularity of every item; the context is ignored. */
  score(_ctx: ScoringContext, out: Float32Array): void {
    out.set(this.scores);
  }

  similarItems(): TopK | null {
    return null;
  }

  toArtifact(): Artifact {
    return {
      header: { info: this.info, itemIds: this.itemIds, extra: { referenceTime: this.referenceTime } },
      arrays: { scores: this.scores },
    };
  }
}

/** Σ strength · 2^(-max(0, reference - t) / halfLifeMs) per item. */
export function decayedSums(data: InteractionData, reference: number, halfLifeMs: number): Float32Array {
  const { item, strength, time, length } = data.events;
  const acc = new Float64Array(data.items.size);
  const rate = -1 / halfLifeMs;
  for (let e = 0; e < length; e++) {
    const age = reference - time[e];
    acc[item[e]] += strength[e] * (age > 0 ? Math.pow(2, age * rate) : 1);
  }
  return Float32Array.from(acc);
}
