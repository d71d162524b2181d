/**
 * Fitting several rating models at once, on the calling thread or on worker threads. The
 * training matrices go into SharedArrayBuffers; workers claim jobs from a shared counter and
 * send back each fitted model as artifact parts, which are rebuilt here. Every fit is
 * deterministic, so the result does not depend on the number of threads.
 */
import type { CsrMatrix } from '../../data/csr.js';
import { IdMap } from '../../data/id-map.js';
import { interactionsFromIndices, type InteractionData } from '../../data/interactions.js';
import type { JsonObject } from '../../domain/types.js';
import type { ArtifactArray } from '../artifact.js';
import type { ModelInfo } from '../model.js';
import type { Params } from '../params.js';
import { allWorkers, runWorker, siblingModule, type WorkerRun } from '../worker-threads.js';
import { COMPONENTS, type RatingComponent } from './components.js';

export interface ComponentJob {
  /** Index of the training data set. */
  data: number;
  family: string;
  params: Params;
}

/** A training matrix as shared with the workers. */
export interface SharedMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}

export interface ComponentWork {
  matrices: SharedMatrix[];
  jobs: ComponentJob[];
  /** Shared counter: the next job to claim. */
  next: Int32Array;
}

export interface FittedParts {
  job: number;
  info: ModelInfo;
  extra?: JsonObject;
  arrays: Record<string, ArtifactArray>;
}

/** Fits every job on the calling thread. */
export function fitComponents(
  datasets: readonly InteractionData[],
  jobs: readonly ComponentJob[],
): RatingComponent[] {
  return jobs.map((j) => COMPONENTS[j.family].fit(datasets[j.data], j.params));
}

function shared<T extends Int32Array | Float32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  return new ctor(buffer);
}

function sharedMatrix(m: CsrMatrix): SharedMatrix {
  const nnz = m.indptr[m.rows];
  return {
    rows: m.rows,
    cols: m.cols,
    indptr: shared(m.indptr.subarray(0, m.rows + 1)),
    indices: shared(m.indices.subarray(0, nnz)),
    data: shared(m.data.subarray(0, nnz)),
  };
}

/**
 * Fits every job on `threads` workers (jobs are claimed in the order given, so list the
 * costliest first).
 */
export async function fitComponentsParallel(
  datasets: readonly InteractionData[],
  jobs: readonly ComponentJob[],
  threads: number,
): Promise<RatingComponent[]> {
  const work: ComponentWork = {
    matrices: datasets.map((d) => sharedMatrix(d.matrix)),
    jobs: [...jobs],
    next: new Int32Array(new SharedArrayBuffer(4)),
  };
  const url = siblingModule(import.meta.url, 'component-worker');
  const runs: WorkerRun<FittedParts[]>[] = [];
  for (let t = 0; t < Math.min(threads, jobs.length); t++) runs.push(runWorker<FittedParts[]>(url, work));
  const out = new Array<RatingComponent>(jobs.length);
  for (const parts of await allWorkers(runs)) {
    for (const p of parts) {
      const job = jobs[p.job];
      out[p.job] = COMPONENTS[job.family].fromArtifact({
        header: {
          info: p.info,
          itemIds: datasets[job.data].items.ids,
          ...(p.extra ? { extra: p.extra } : {}),
        },
        arrays: p.arrays,
      });
    }
  }
  return out;
}

/** Training data around a shared matrix, with placeholder ids (for the workers). */
export function dataOfShared(m: SharedMatrix): InteractionData {
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));
  const users = new IdMap(ids(m.rows));
  const items = new IdMap(ids(m.cols));
  const empty = interactionsFromIndices({
    users,
    items,
    events: {
      user: new Int32Array(0),
      item: new Int32Array(0),
      strength: new Float32Array(0),
      time: new Float64Array(0),
      length: 0,
    },
    now: 0,
  });
  return { ...empty, matrix: { ...m } };
}
