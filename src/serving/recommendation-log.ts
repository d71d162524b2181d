/**
 * What was served: every recommendation response is logged under its recommendation id, with the
 * items in rank order and (when the pipeline computed them) the ranker's feature rows, so that
 * impressions, clicks and purchases sent back with that id can be attributed to it, and a
 * learned ranker can be trained on what was shown and what happened next.
 */

export interface ServedRecommendation {
  id: string;
  userId: string;
  placement: string;
  /** When it was served (ms). */
  servedAt: number;
  /** Item ids in rank order. */
  items: string[];
  scores: number[];
  /** Ranker features of each served item: rows = items.length, row-major; null when not logged. */
  features: { names: string[]; rows: Float32Array } | null;
}

/** What happened to one served item, from the events sent with the recommendation id. */
export interface ItemOutcome {
  itemId: string;
  /** 1-based rank it was served at. */
  rank: number;
  impressions: number;
  clicks: number;
  carts: number;
  purchases: number;
  /** Sum of purchase revenue: the event's `context.revenue` when given, else value (quantity, default 1) × item price. */
  revenue: number;
}

export interface RecommendationLog {
  /** Records a served list; durable once the returned promise resolves. */
  record(served: ServedRecommendation): Promise<void>;
  get(id: string): Promise<ServedRecommendation | null>;
  /** Outcomes of every served item of one recommendation (zeros where nothing happened). */
  outcomes(id: string): Promise<ItemOutcome[]>;
  /** Served recommendations in serving order, from `since` (ms) on, with their outcomes. */
  scan(options?: { since?: number; placement?: string; batchSize?: number }): AsyncIterable<{
    served: ServedRecommendation;
    outcomes: ItemOutcome[];
  }>;
}
