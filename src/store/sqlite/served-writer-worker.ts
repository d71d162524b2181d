/**
 * Worker thread writing served recommendations into the SQLite file through a connection of
 * its own, so that their transactions (and the WAL checkpoints they trigger) never hold up the
 * serving thread. Answers every batch with the rows written or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeServedBatch } from '../../serving/served-batch.js';
import { SqliteStore } from './sqlite-store.js';

export interface ServedWriteRequest {
  id: number;
  /** Served lists encoded by ServedBatchBuilder. */
  batch: Uint8Array;
}

export type ServedWriteReply = { id: number; written: number } | { id: number; error: string };

// Small batches every few dozen milliseconds: checkpoints of ~4 MB of WAL keep every commit short,
// where the serving default of 64 MB held the lists queued behind one commit for most of a second.
const store = new SqliteStore((workerData as { file: string }).file, { walAutocheckpointPages: 1000 });
const ready = store.init();

parentPort?.on('message', (message: ServedWriteRequest | 'close') => {
  if (message === 'close') {
    void ready.then(() => store.close()).then(() => parentPort?.close());
    return;
  }
  ready
    .then(() => store.insertRecommendations(decodeServedBatch(message.batch)))
    .then(
      (written) => parentPort?.postMessage({ id: message.id, written } satisfies ServedWriteReply),
      (err: Error) =>
        parentPort?.postMessage({ id: message.id, error: err.message } satisfies ServedWriteReply),
    );
});
