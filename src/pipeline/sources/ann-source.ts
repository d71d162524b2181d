/**
 * Candidates by approximate nearest-neighbour search over embeddings: the user's vector (their
 * trained row, or folded in from their live history) against an index of item vectors.
 */
import type { VectorIndex } from '../../retrieval/vector-index.js';
import type { Recommender } from '../../models/model.js';
import { becauseOfHistory } from '../explain.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';

/** A model with one embedding per user and per item, scored by their dot product. */
export interface EmbeddingModel {
  readonly factors: number;
  userVector(userIndex: number): Float32Array;
  foldInUser(history: Int32Array, weights: Float32Array): Float32Array;
}

export class AnnSource implements CandidateSource {
  constructor(
    readonly name: string,
    private readonly model: EmbeddingModel & Recommender,
    private readonly index: VectorIndex,
    /** Users the model was trained on (rows of userVector). */
    private readonly users: number,
  ) {}

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    let q: Float32Array;
    if (ctx.userIndex >= 0 && ctx.userIndex < this.users) q = this.model.userVector(ctx.userIndex);
    else if (ctx.history.length > 0) q = this.model.foldInUser(ctx.history, ctx.historyWeights);
    else return 0;
    // The search costs with its candidate list: sized to what is asked, not the index's default.
    const n = Math.min(limit, this.index.size);
    const top = this.index.search(q, n, undefined, n);
    for (let r = 0; r < top.indices.length; r++) add(top.indices[r], top.scores[r]);
    return top.indices.length;
  }

  explain(ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    return becauseOfHistory(this.model, ctx, item, names);
  }
}
