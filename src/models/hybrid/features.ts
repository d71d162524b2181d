/**
 * Feature matrices of the hybrid model: each row (a user or an item) is a weighted set of
 * features. Features 0..rows-1 are the identity features (row r has feature r, when identities
 * are on); metadata features (genres, categories, tags, user attributes) follow, named by a
 * vocabulary. A row's representation is the weighted sum of its features' embeddings, so a row
 * known only by its metadata still lands in the same space.
 */

/** Rows x features, CSR on typed arrays. */
export interface FeatureMatrix {
  rows: number;
  /** Identity features (= rows when identities are on, else 0). */
  identities: number;
  /** Names of the metadata features; metadata feature m has column identities + m. */
  vocabulary: readonly string[];
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

export interface FeatureOptions {
  /** Give every row its own identity feature (default true). */
  identity?: boolean;
  /** Weight of the identity feature before normalisation (default 1). */
  identityWeight?: number;
  /** Weight of all metadata features together before normalisation (default 1). */
  metadataWeight?: number;
  /** Metadata vocabulary to use (labels outside it are dropped); default: built from the labels. */
  vocabulary?: readonly string[];
}

/** Total number of feature columns. */
export function featureCount(m: FeatureMatrix): number {
  return m.identities + m.vocabulary.length;
}

/**
 * A feature matrix from per-row metadata labels. Each row's weights sum to 1: the identity
 * feature gets identityWeight and the row's k distinct labels metadataWeight/k each, both
 * before normalisation (a row without labels is its identity alone).
 */
export function buildFeatures(
  rows: number,
  labels: (row: number) => readonly string[],
  options: FeatureOptions = {},
): FeatureMatrix {
  const identity = options.identity ?? true;
  const idWeight = options.identityWeight ?? 1;
  const metaWeight = options.metadataWeight ?? 1;
  const fixed = options.vocabulary !== undefined;
  const vocabulary: string[] = options.vocabulary ? [...options.vocabulary] : [];
  const column = new Map<string, number>();
  vocabulary.forEach((v, i) => column.set(v, i));
  const ids = identity ? rows : 0;
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const weights: number[] = [];
  const rowCols: number[] = [];
  for (let r = 0; r < rows; r++) {
    rowCols.length = 0;
    for (const label of labels(r)) {
      let c = column.get(label);
      if (c === undefined) {
        if (fixed) continue;
        c = vocabulary.length;
        vocabulary.push(label);
        column.set(label, c);
      }
      if (!rowCols.includes(c)) rowCols.push(c);
    }
    rowCols.sort((a, b) => a - b);
    const k = rowCols.length;
    const total = (identity ? idWeight : 0) + (k > 0 ? metaWeight : 0);
    if (identity) {
      indices.push(r);
      weights.push(total > 0 ? idWeight / total : 1);
    }
    for (const c of rowCols) {
      indices.push(ids + c);
      weights.push(metaWeight / k / (total > 0 ? total : 1));
    }
    indptr[r + 1] = indices.length;
  }
  return {
    rows,
    identities: ids,
    vocabulary,
    indptr,
    indices: Int32Array.from(indices),
    weights: Float32Array.from(weights),
  };
}

/** Identity features only: each row is its own embedding (plain matrix factorisation). */
export function identityFeatures(rows: number): FeatureMatrix {
  return buildFeatures(rows, () => []);
}

/**
 * The features of a row not in the matrix (a new item or user) from its labels alone: metadata
 * columns of the known vocabulary, weights summing to 1; labels outside the vocabulary are dropped.
 */
export function metadataRow(
  m: FeatureMatrix,
  labels: readonly string[],
): { indices: Int32Array; weights: Float32Array } {
  const cols: number[] = [];
  for (const label of labels) {
    const c = m.vocabulary.indexOf(label);
    if (c >= 0 && !cols.includes(m.identities + c)) cols.push(m.identities + c);
  }
  cols.sort((a, b) => a - b);
  const w = new Float32Array(cols.length).fill(cols.length > 0 ? 1 / cols.length : 0);
  return { indices: Int32Array.from(cols), weights: w };
}
