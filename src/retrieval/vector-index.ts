/**
 * The retrieval index contract: items are dense indices 0..size-1, each with a vector of `dim`
 * floats; a query's score for an item is their inner product (user vector · item vector).
 */

/** Items best first: higher score first, equal scores by lower index. */
export interface IndexSearchResult {
  indices: Int32Array;
  scores: Float32Array;
}

/** Whether an item may be returned (e.g. not already seen, in stock). */
export type ItemFilter = (itemIndex: number) => boolean;

export type VectorIndexKind = 'exact' | 'hnsw';

export interface VectorIndex {
  readonly kind: VectorIndexKind;
  /** Floats per vector. */
  readonly dim: number;
  /** Items held (indices 0..size-1). */
  readonly size: number;
  /**
   * The (up to) `k` items with the highest inner product with `query` among those the filter
   * accepts, best first. Fewer than k when fewer items qualify (or, for an approximate index,
   * when its search found fewer). `ef`, for an approximate index, is the candidate list of this
   * search (at least k; its own setting when omitted): what a caller trades for speed when it
   * needs fewer results than the index's setting is sized for. An exact index ignores it.
   */
  search(query: Float32Array, k: number, filter?: ItemFilter, ef?: number): IndexSearchResult;
  /** Appends an item and returns its index (the previous size). */
  add(vector: Float32Array): number;
  /** Replaces the vector of an existing item. */
  update(itemIndex: number, vector: Float32Array): void;
  /** A copy of an item's vector. */
  vector(itemIndex: number): Float32Array;
  /** Writes the index to one file (replaced atomically). */
  save(file: string): void;
}

/** Throws a RangeError naming `name` unless `v` has exactly `dim` finite entries. */
export function checkVector(name: string, v: Float32Array, dim: number): void {
  if (!(v instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array`);
  if (v.length !== dim) {
    throw new RangeError(`${name} has ${v.length} entries, the index has dimension ${dim}`);
  }
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(v[i])) throw new RangeError(`${name}[${i}] is not a finite number`);
  }
}

/** Throws a RangeError naming `k` unless it is a non-negative integer. */
export function checkK(k: number): number {
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`k must be a non-negative integer, got ${k}`);
  return k;
}

/** Throws a RangeError naming `itemIndex` unless it is an item of an index of `size` items. */
export function checkItem(itemIndex: number, size: number): void {
  if (!(Number.isInteger(itemIndex) && itemIndex >= 0 && itemIndex < size)) {
    throw new RangeError(`itemIndex ${itemIndex} is outside 0..${size - 1}`);
  }
}

/** Throws a RangeError naming `dim` unless it is a positive integer. */
export function checkDim(dim: number): void {
  if (!(Number.isInteger(dim) && dim >= 1))
    throw new RangeError(`dim must be a positive integer, got ${dim}`);
}

/** Throws unless `vectors` holds `count` rows of `dim` finite floats. */
export function checkRows(vectors: Float32Array, count: number, dim: number): void {
  if (!(vectors instanceof Float32Array)) throw new TypeError('vectors must be a Float32Array');
  if (vectors.length !== count * dim) {
    throw new RangeError(`vectors has ${vectors.length} entries, expected ${count} x ${dim}`);
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) {
      throw new RangeError(`vectors[${i}] (item ${Math.floor(i / dim)}) is not a finite number`);
    }
  }
}
