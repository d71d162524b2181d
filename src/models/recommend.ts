import type { InteractionData } from '../data/interactions.js';
import { topK } from '../kernels/topk.js';
import type { Recommender, ScoringContext, TopK } from './model.js';

/** The scoring context of a training user: their row of the interaction matrix. */
export function trainingContext(data: InteractionData, userIndex: number): ScoringContext {
  const m = data.matrix;
  const start = m.indptr[userIndex];
  const end = m.indptr[userIndex + 1];
  return { userIndex, history: m.indices.subarray(start, end), historyWeights: m.data.subarray(start, end) };
}

export interface RecommendOptions {
  /** 1 marks items never to return (already consumed, unavailable, ...). */
  exclude?: Uint8Array | null;
  /** When given, only these item indices are candidates. */
  allow?: Int32Array | null;
  /** Reused score buffer (length = item count), to keep the hot path allocation-free. */
  scratch?: Float32Array;
}

/** Top-K items for one user; items scored -Infinity are never returned. */
export function recommendTopK(
  model: Recommender,
  ctx: ScoringContext,
  k: number,
  options: RecommendOptions = {},
): TopK {
  const scores = options.scratch ?? new Float32Array(model.itemIds.length);
  model.score(ctx, scores);
  let exclude = options.exclude ?? null;
  if (options.allow) {
    const mask = new Uint8Array(scores.length).fill(1);
    for (let i = 0; i < options.allow.length; i++) mask[options.allow[i]] = 0;
    if (exclude) for (let i = 0; i < mask.length; i++) mask[i] |= exclude[i];
    exclude = mask;
  }
  return topK(scores, k, exclude);
}

/** Scores of the given items only (for re-ranking a candidate list). */
export function scoreItems(
  model: Recommender,
  ctx: ScoringContext,
  items: Int32Array,
  scratch?: Float32Array,
): Float32Array {
  const scores = scratch ?? new Float32Array(model.itemIds.length);
  model.score(ctx, scores);
  const out = new Float32Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = scores[items[i]];
  return out;
}
