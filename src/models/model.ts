/**
 * The contract every recommendation model fulfils. Models work on dense integer indices
 * (see src/data/id-map.ts); the serving layer maps external ids in and out.
 */

/** What a model knows about the user it scores for. */
export interface ScoringContext {
  /** The user's row in the training data, or -1 when the model has never seen the user. */
  userIndex: number;
  /** Item indices the user interacted with, most recent first (live from the store, not only training). */
  history: Int32Array;
  /** Interaction strength of each history entry (same length as `history`). */
  historyWeights: Float32Array;
}

export interface TopK {
  /** Item indices, best first. */
  indices: Int32Array;
  scores: Float32Array;
}

/** Descriptive header of a trained model, saved with its artifact. */
export interface ModelInfo {
  /** Model family, e.g. `popularity`, `trending`, `item-knn`. */
  name: string;
  params: Record<string, number | string | boolean>;
  /** When training finished (ms since epoch). */
  trainedAt: number;
  users: number;
  items: number;
  interactions: number;
  fitSeconds: number;
}

export interface Recommender {
  readonly info: ModelInfo;
  /** External item ids, by item index. */
  readonly itemIds: readonly string[];
  /**
   * Writes a score for every item into `out` (length = itemIds.length); higher is better.
   * Items the model cannot score get -Infinity.
   */
  score(ctx: ScoringContext, out: Float32Array): void;
  /** Items most similar to the given one (the item itself excluded); null if the model has no notion of it. */
  similarItems(itemIndex: number, k: number): TopK | null;
}
