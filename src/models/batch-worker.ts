/**
 * Worker of BatchRecommender (./batch.ts): rebuilds the model (or attaches to the shared
 * WebAssembly index), says so with id 0, then answers every posted job by claiming user ranges
 * from the job's shared counter and writing each user's top-k into the shared results.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TopKHeap } from '../kernels/topk.js';
import { DotTopKSearcher } from '../kernels/wasm/topk-dot.js';
import type { BatchJob, BatchJobDone, BatchWorkerSetup } from './batch.js';
import type { Recommender, ScoringContext } from './model.js';
import { modelFromArtifact } from './registry.js';

if (!parentPort) throw new Error('batch-worker must run in a worker thread');
const port = parentPort;
const setup = workerData as BatchWorkerSetup;
const { indptr, indices, values, items } = setup;

let answer: (job: BatchJob) => void;

try {
  answer = setup.kind === 'wasm' ? dotAnswerer() : modelAnswerer();
  port.postMessage({ id: 0 } satisfies BatchJobDone);
} catch (err) {
  port.postMessage({ id: 0, error: err instanceof Error ? err.message : String(err) } satisfies BatchJobDone);
  answer = () => undefined;
}

port.on('message', (job: BatchJob) => {
  try {
    answer(job);
    port.postMessage({ id: job.id } satisfies BatchJobDone);
  } catch (err) {
    port.postMessage({
      id: job.id,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    } satisfies BatchJobDone);
  }
});

/** Scores with the model itself: the same computation as recommendTopK. */
function modelAnswerer(): (job: BatchJob) => void {
  if (!setup.header || !setup.arrays) throw new Error('batch worker: no model given');
  const model: Recommender = modelFromArtifact({ header: setup.header, arrays: setup.arrays });
  const scratch = new Float32Array(items);
  const mask = new Uint8Array(items);
  const heap = new TopKHeap(16);
  const ctx: ScoringContext = {
    userIndex: -1,
    history: indices.subarray(0, 0),
    historyWeights: values.subarray(0, 0),
  };
  return (job) => {
    const { users, bounds, next, k } = job;
    const ranges = bounds.length - 1;
    for (let r = Atomics.add(next, 0, 1); r < ranges; r = Atomics.add(next, 0, 1)) {
      for (let j = bounds[r]; j < bounds[r + 1]; j++) {
        const u = users[j];
        const start = indptr[u];
        const end = indptr[u + 1];
        ctx.userIndex = u;
        ctx.history = indices.subarray(start, end);
        ctx.historyWeights = values.subarray(start, end);
        model.score(ctx, scratch);
        heap.reset(Math.min(k, items));
        if (job.excludeSeen) {
          for (let p = start; p < end; p++) mask[indices[p]] = 1;
          for (let i = 0; i < items; i++) if (mask[i] === 0) heap.push(i, scratch[i]);
          for (let p = start; p < end; p++) mask[indices[p]] = 0;
        } else {
          for (let i = 0; i < items; i++) heap.push(i, scratch[i]);
        }
        job.counts[j] = heap.drainInto(job.indices, job.scores, j * k);
      }
    }
  };
}

/** Scores with the SIMD dot-product kernel on the shared item factors. */
function dotAnswerer(): (job: BatchJob) => void {
  const { memory, layout, slot, userFactors } = setup;
  if (!memory || !layout || slot === undefined || !userFactors)
    throw new Error('batch worker: no kernel given');
  const searcher = new DotTopKSearcher(
    memory as ConstructorParameters<typeof DotTopKSearcher>[0],
    layout,
    slot,
  );
  const f = layout.factors;
  let offsets = new Int32Array(0);
  let from = new Int32Array(0);
  let to = new Int32Array(0);
  return (job) => {
    const { users, bounds, next, k } = job;
    const n = users.length;
    if (offsets.length < n) {
      offsets = new Int32Array(n);
      from = new Int32Array(n);
      to = new Int32Array(n);
    }
    const ranges = bounds.length - 1;
    for (let r = Atomics.add(next, 0, 1); r < ranges; r = Atomics.add(next, 0, 1)) {
      const a = bounds[r];
      const b = bounds[r + 1];
      for (let j = a; j < b; j++) {
        const u = users[j];
        offsets[j] = u * f;
        from[j] = indptr[u];
        to[j] = indptr[u + 1];
      }
      searcher.topKMany(
        userFactors,
        offsets,
        a,
        b,
        k,
        job.excludeSeen ? indices : null,
        from,
        to,
        job.indices,
        job.scores,
        job.counts,
      );
    }
  };
}
