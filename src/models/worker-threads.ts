/**
 * Starting module workers. A worker module next to a `.ts` caller is TypeScript source (tests,
 * development runs); it is then loaded through tsx's module hooks inside the worker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** URL of the sibling module `name` (without extension) of the module at `callerUrl`. */
export function siblingModule(callerUrl: string, name: string): URL {
  const ext = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, callerUrl);
}

/** Starts a worker running the module at `url` with `workerData`. */
export function startWorker(url: URL, workerData: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const require = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(require.resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const boot =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export interface WorkerRun<T> {
  /** The first message the worker posts. */
  result: Promise<T>;
  /** Stops the worker (no effect once it has answered). */
  stop(): Promise<void>;
}

/** Starts a worker that answers with one message and is terminated once it has. */
export function runWorker<T>(url: URL, workerData: unknown): WorkerRun<T> {
  const worker = startWorker(url, workerData);
  const result = new Promise<T>((resolve, reject) => {
    let settled = false;
    worker.once('message', (msg: T) => {
      settled = true;
      resolve(msg);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`worker ${url.pathname} exited with code ${code} before answering`));
    });
  });
  return {
    result,
    stop: async () => {
      await worker.terminate();
    },
  };
}

/** Results of all runs; when one fails, the others are stopped and the first error is thrown. */
export async function allWorkers<T>(runs: readonly WorkerRun<T>[]): Promise<T[]> {
  try {
    return await Promise.all(runs.map((r) => r.result));
  } catch (err) {
    await Promise.all(runs.map((r) => r.stop()));
    throw err;
  }
}
