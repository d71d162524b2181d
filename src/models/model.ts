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
  /**
   * Items most similar to the given one (the item itself excluded); null if the model has no notion
   * of it. The arrays may be views of the model's own data: read them, do not modify them.
   */
  similarItems(itemIndex: number, k: number): TopK | null;
}

/** One reason an item scored as it did: a history item (or factor) and its share of the score. */
export interface Contribution {
  /** The history item behind this share, or -1 for a share with no single item (bias, latent taste). */
  itemIndex: number;
  weight: number;
}

/** Optional capabilities; the serving layer checks for them with the guards below. */
export interface RatingPredictor {
  /** Predicted rating of a training user for an item (a user index of -1 uses only biases / fold-in). */
  predict(userIndex: number, itemIndex: number): number;
}

export interface UserSimilarity {
  /** External user ids, by user index. */
  readonly userIds: readonly string[];
  similarUsers(userIndex: number, k: number): TopK | null;
}

export interface Explainer {
  /** The largest contributions to the item's score for this user, largest first. */
  explain(ctx: ScoringContext, itemIndex: number, max: number): Contribution[];
}

export interface FoldIn {
  /**
   * The latent vector of a user from their history alone, item side fixed (a half-step of the
   * fit). score() uses it automatically when ctx.userIndex is -1.
   */
  foldInUser(history: Int32Array, weights: Float32Array): Float32Array;
  /** The latent vector of an item from the users who interacted with it, user side fixed. */
  foldInItem?(users: Int32Array, weights: Float32Array): Float32Array;
}

export function canPredict(m: Recommender): m is Recommender & RatingPredictor {
  return typeof (m as Partial<RatingPredictor>).predict === 'function';
}

export function canExplain(m: Recommender): m is Recommender & Explainer {
  return typeof (m as Partial<Explainer>).explain === 'function';
}

/**
 * A model whose `similarItems` reads precomputed neighbour lists (CSR by item, best first): callers
 * on the request path read them in place instead of through a TopK per item.
 */
export interface NeighbourListModel {
  readonly neighbourLists: Readonly<{ indptr: Int32Array; indices: Int32Array; scores: Float32Array }>;
}

export function hasNeighbourLists(m: Recommender): m is Recommender & NeighbourListModel {
  const lists = (m as Partial<NeighbourListModel>).neighbourLists;
  return (
    lists !== undefined &&
    lists.indptr instanceof Int32Array &&
    lists.indptr.length === m.itemIds.length + 1 &&
    lists.indices instanceof Int32Array &&
    lists.scores instanceof Float32Array
  );
}

export function canFoldIn(m: Recommender): m is Recommender & FoldIn {
  return typeof (m as Partial<FoldIn>).foldInUser === 'function';
}

export function hasUserSimilarity(m: Recommender): m is Recommender & UserSimilarity {
  return typeof (m as Partial<UserSimilarity>).similarUsers === 'function';
}
