/** Reads a saved vector index of either kind. */
import { ExactIndex, type ExactIndexOptions } from './exact-index.js';
import { HnswIndex } from './hnsw-index.js';
import { readIndexFile } from './index-file.js';
import type { VectorIndex } from './vector-index.js';

/** The index saved in `file` by ExactIndex.save or HnswIndex.save. */
export function loadVectorIndex(file: string, options: ExactIndexOptions = {}): VectorIndex {
  const f = readIndexFile(file);
  return f.header.kind === 'hnsw' ? HnswIndex.fromFile(f, file) : ExactIndex.fromFile(f, file, options);
}
