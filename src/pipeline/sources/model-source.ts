/**
 * Candidates from any model's full scores for the user (exact retrieval): the model scores every
 * item from the user's row or live history, the best `limit` are proposed.
 */
import type { Recommender } from '../../models/model.js';
import { becauseOfHistory } from '../explain.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';
import { TopPicker } from './top.js';

export class ModelSource implements CandidateSource {
  private readonly scores: Float32Array;
  private readonly picker = new TopPicker();

  constructor(
    readonly name: string,
    private readonly model: Recommender,
  ) {
    this.scores = new Float32Array(model.itemIds.length);
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    if (ctx.userIndex < 0 && ctx.history.length === 0) return 0;
    this.model.score(
      { userIndex: ctx.userIndex, history: ctx.history, historyWeights: ctx.historyWeights },
      this.scores,
    );
    return this.picker.fromScores(this.scores, limit, add);
  }

  explain(ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    return becauseOfHistory(this.model, ctx, item, names);
  }
}
