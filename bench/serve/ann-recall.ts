/**
 * Recall of the ANN index the server builds, against exact search: the latest saved artifact of
 * the personal embedding model, its item vectors indexed as `annIndexes` does (HNSW defaults),
 * queried with the vectors of sampled trained users.
 */
import { ArtifactRepository } from '../../src/models/artifact-repo.js';
import { dotProductArrays } from '../../src/models/batch.js';
import { loadModel } from '../../src/models/registry.js';
import { Rng } from '../../src/ingest/prng.js';
import { ExactIndex } from '../../src/retrieval/exact-index.js';
import { HNSW_DEFAULTS, HnswIndex } from '../../src/retrieval/hnsw-index.js';
import { recallAtK } from '../../src/retrieval/recall.js';
import type { IndexSearchResult, VectorIndex } from '../../src/retrieval/vector-index.js';

export interface AnnRecall {
  model: string;
  items: number;
  factors: number;
  queries: number;
  buildSeconds: number;
  /** recall@k of a top-k search at the default efSearch. */
  recall: number;
  /** recall@k of the first k of a `servedLimit` search, as the pipeline's primary source asks. */
  recallServed: number;
  /** Per-query latency of that search (ms). */
  servedP50: number;
  servedLimit: number;
  /** Per-query latency of the top-k ANN and exact searches on this process (ms). */
  annP50: number;
  annP99: number;
  exactP50: number;
  exactP99: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function run(
  index: VectorIndex,
  queries: readonly Float32Array[],
  k: number,
  ef?: number,
): { results: IndexSearchResult[]; p50: number; p99: number } {
  const times = new Float64Array(queries.length);
  const results: IndexSearchResult[] = [];
  for (let q = 0; q < queries.length; q++) {
    const t = performance.now();
    results.push(index.search(queries[q], k, undefined, ef));
    times[q] = performance.now() - t;
  }
  times.sort();
  return { results, p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

/** Measures recall@k over `queries` sampled trained users of model `name` saved under `modelsDir`. */
export function measureAnnRecall(
  modelsDir: string,
  name: string,
  o: { queries: number; k: number; servedLimit: number; seed: number },
): AnnRecall {
  const file = new ArtifactRepository(modelsDir).latest(name);
  if (!file) throw new Error(`no saved '${name}' model under ${modelsDir}`);
  const model = loadModel(file);
  const users = model.info.users;
  const dot = dotProductArrays(model.toArtifact(), users);
  if (!dot) throw new Error(`'${name}' does not score by a dot product of user and item vectors`);
  const items = model.itemIds.length;

  const t = performance.now();
  const hnsw = HnswIndex.build(dot.itemFactors, items, dot.factors);
  const buildSeconds = (performance.now() - t) / 1000;
  const exact = ExactIndex.build(dot.itemFactors, items, dot.factors);

  const rng = new Rng(o.seed);
  const queries: Float32Array[] = [];
  for (let q = 0; q < Math.min(o.queries, users); q++) {
    const u = rng.int(users);
    queries.push(dot.userFactors.slice(u * dot.factors, (u + 1) * dot.factors));
  }
  for (let q = 0; q < Math.min(100, queries.length); q++) {
    hnsw.search(queries[q], o.k);
    exact.search(queries[q], o.k);
  }
  const truth = run(exact, queries, o.k);
  const approx = run(hnsw, queries, o.k);
  // As the pipeline's ANN source searches: the candidate list sized to the number asked.
  const served = run(hnsw, queries, o.servedLimit, o.servedLimit);
  return {
    model: name,
    items,
    factors: dot.factors,
    queries: queries.length,
    buildSeconds,
    recall: recallAtK(truth.results, approx.results, o.k),
    recallServed: recallAtK(truth.results, served.results, o.k),
    servedLimit: o.servedLimit,
    servedP50: served.p50,
    annP50: approx.p50,
    annP99: approx.p99,
    exactP50: truth.p50,
    exactP99: truth.p99,
  };
}

export const ANN_EF_SEARCH = HNSW_DEFAULTS.efSearch;
