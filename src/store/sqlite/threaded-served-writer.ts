/**
 * Writes served recommendations on a worker thread with its own connection to the SQLite file
 * (see served-writer-worker.ts): the serving thread only hands the rows over.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorker } from '../../models/worker-threads.js';
import type { ServedWriter } from '../store.js';
import type { ServedWriteReply, ServedWriteRequest } from './served-writer-worker.js';

export class ThreadedServedWriter implements ServedWriter {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  constructor(file: string) {
    this.worker = startWorker(siblingModule(import.meta.url, 'served-writer-worker'), { file });
    this.worker.on('message', (reply: ServedWriteReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) w.reject(new Error(`served recommendations not written: ${reply.error}`));
      else w.resolve(reply.written);
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the served-recommendation writer exited (${code})`)));
    // Serving does not wait on an idle writer to exit.
    this.worker.unref();
  }

  insertBatch(batch: Uint8Array): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: ServedWriteRequest = { id, batch };
      // Moved, not copied: the thread decodes the lists from the very bytes they were encoded into.
      this.worker.postMessage(request, [batch.buffer as ArrayBuffer]);
    });
  }

  /** Lets the writes in flight finish, then closes the writer's connection. */
  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Held until it has exited: closing must not end with a process that has nothing else to do.
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }
}
