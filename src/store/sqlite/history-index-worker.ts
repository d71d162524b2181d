/**
 * Worker thread building a HistoryIndex from a SQLite file through a read-only connection of its
 * own, so that scanning millions of events never holds up the serving thread. Answers with one
 * message (the columns are transferred, not copied).
 *
 * The deletion log position and the scan come from one read transaction: the index is exactly
 * the events of that snapshot, and the owner catches up from that position and the last id.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyRow } from '../shared.js';
import { HistoryIndex, type HistoryIndexData } from './history-index.js';
import { EVENT_KEYS_AFTER } from './rows.js';

export interface HistoryBuildRequest {
  file: string;
  /** No index is built when the events table holds more rows than this. */
  maxEvents: number;
}

export type HistoryBuildReply =
  | { kind: 'built'; data: HistoryIndexData; deletionSeq: number }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; error: string };

/** Room for events written after the build before the columns first grow on the serving thread. */
const HEADROOM = 1 / 8;
const PAGE = 65_536;

function build({ file, maxEvents }: HistoryBuildRequest): {
  reply: HistoryBuildReply;
  transfer: ArrayBuffer[];
} {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('mmap_size = 1073741824');
    return db.transaction(() => {
      const deletionSeq = db
        .prepare('SELECT coalesce(max(seq), 0) FROM event_deletions')
        .pluck()
        .get() as number;
      const count = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
      if (count > maxEvents) {
        return {
          reply: skipped(`${count} events, more than the ${maxEvents} to keep in memory`),
          transfer: [],
        };
      }
      const index = HistoryIndex.withCapacity(count + Math.ceil(count * HEADROOM));
      // Keyset pages: materialising whole pages is faster than stepping a cursor row by row.
      const page = db.prepare(EVENT_KEYS_AFTER).raw(true);
      for (let after = 0; ;) {
        const rows = page.all(after, PAGE) as KeyRow[];
        for (const row of rows) {
          if (!index.append(row[0], row[1], row[2], row[3], row[4], row[5])) {
            return { reply: skipped(`event ${row[0]} has an id or key beyond 32 bits`), transfer: [] };
          }
        }
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1][0];
      }
      index.seal();
      const { data, transfer } = index.toData();
      return { reply: { kind: 'built', data, deletionSeq } as HistoryBuildReply, transfer };
    })();
  } finally {
    db.close();
  }
}

function skipped(reason: string): HistoryBuildReply {
  return { kind: 'skipped', reason };
}

if (parentPort) {
  let answer: { reply: HistoryBuildReply; transfer: ArrayBuffer[] };
  try {
    answer = build(workerData as HistoryBuildRequest);
  } catch (err) {
    answer = { reply: { kind: 'failed', error: (err as Error).message }, transfer: [] };
  }
  parentPort.postMessage(answer.reply, answer.transfer);
}
