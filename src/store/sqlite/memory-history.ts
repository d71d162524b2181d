/**
 * Users' histories answered from a HistoryIndex kept exactly as fresh as the events table.
 *
 * The index is built on a worker thread (history-index-worker.ts); until it arrives, and for good
 * once it has been given up (more events than the cap, ids beyond 32 bits), `recent` answers null
 * and the store reads SQL. Every `recent` first syncs with one statement reading max(id) of the
 * events and max(seq) of the deletion log (and the user's key when it is not cached). When either
 * moved, the catch-up runs in one read transaction, so everything it reads is one snapshot:
 *
 * 1. Deletions logged after the last one applied: by event id, or every event of a user or an
 *    item (a deleted user or item never comes back under the same key). They only mark rows the
 *    index held before this snapshot, so the order they are applied in does not matter, and item
 *    deletions share one scan.
 * 2. Deleted rows at the end of the index are cut off and the watermark drops to the largest id
 *    still live. Events have `id INTEGER PRIMARY KEY` without AUTOINCREMENT: after the newest
 *    event is deleted, SQLite hands its id to the next insert.
 * 3. Events with an id above the watermark are appended.
 *
 * Why this is exact: a new event gets an id above every event existing when it is inserted, so
 * above every event the index still holds live after step 1 (those existed before and after it).
 * Hence step 3 reads exactly the events added since the index's snapshot, including one that took
 * the id of a deleted event. A deletion in step 1 never hits such a reused id: the deleted event
 * held the id before the reinsert, and the reinserted event is only appended afterwards, in step 3.
 * Events inserted and deleted between two syncs are never appended; their log rows match nothing
 * live. Without the shared snapshot a delete and a reinsert landing between step 1 and step 3
 * could append the new event and then, on the next sync, kill it for the old one's deletion.
 *
 * User keys: when nothing moved, the index holds the snapshot of the sync statement, and a key read
 * by that statement belongs to it; after a catch-up the key is read again inside it. A cached key
 * stays right until its user is deleted, and every user deletion is logged: any of them in a
 * catch-up clears the cache, and no new log entry means no user was deleted since it was filled.
 */
import type Database from 'better-sqlite3';
import { runWorker, siblingModule, type WorkerRun } from '../../models/worker-threads.js';
import type { KeyRow } from '../shared.js';
import type { HistoryMemoryReport } from '../store.js';
import { HistoryIndex } from './history-index.js';
import { EVENT_KEYS_AFTER } from './rows.js';
import type { HistoryBuildReply, HistoryBuildRequest } from './history-index-worker.js';

type DeletionRow = [eventId: number | null, user: number | null, item: number | null];
/** max(id) of events, max(seq) of the deletion log, the user's key, the type keys (JSON). */
type Probe = [maxId: number | null, maxSeq: number | null, user?: number | null, types?: string];

const CHANGES = '(SELECT max(id) FROM events), (SELECT max(seq) FROM event_deletions)';
const USER_KEY = '(SELECT idx FROM users WHERE id = ?)';
const TYPE_KEYS = `(SELECT json_group_array(idx) FROM event_types
  WHERE name IN (SELECT value FROM json_each(?)))`;
/** Cached user keys before the cache starts over (~60 bytes each with the id). */
const MAX_CACHED_USERS = 1 << 18;
/**
 * Most new events one call appends (about 15 ms of work): after a bulk import by another process
 * the index catches up over several calls, which read SQL meanwhile, instead of stalling one.
 */
const CATCH_UP_ROWS = 10_000;

/** A user's rows of the index, valid until its next call. */
export interface IndexedHistory {
  index: HistoryIndex;
  rows: Int32Array;
}

export class MemoryHistory {
  private index: HistoryIndex | null = null;
  /** Largest event id the index holds; every event above it is new. */
  private watermark = 0;
  /** Last deletion log entry applied. */
  private deletionSeq = 0;
  private build: WorkerRun<HistoryBuildReply> | null = null;
  private closed = false;
  /** User id → key, filled from the sync statements (see the file comment). */
  private readonly userKeys = new Map<string, number>();
  private readonly probe: Database.Statement<unknown[]>;
  private readonly probeWithUser: Database.Statement<unknown[]>;
  private readonly probeWithTypes: Database.Statement<unknown[]>;
  private readonly deletions: Database.Statement<unknown[]>;
  private readonly newEvents: Database.Statement<unknown[]>;

  constructor(
    private readonly db: Database.Database,
    private readonly maxEvents: number,
  ) {
    this.probe = db.prepare(`SELECT ${CHANGES}`).raw(true);
    this.probeWithUser = db.prepare(`SELECT ${CHANGES}, ${USER_KEY}`).raw(true);
    this.probeWithTypes = db.prepare(`SELECT ${CHANGES}, ${USER_KEY}, ${TYPE_KEYS}`).raw(true);
    this.deletions = db
      .prepare(
        'SELECT event_id, user_idx, item_idx FROM event_deletions WHERE seq > ? AND seq <= ? ORDER BY seq',
      )
      .raw(true);
    this.newEvents = db.prepare(EVENT_KEYS_AFTER).raw(true);
  }

  /** Builds the index from `file` on a worker thread; resolves once it serves (or was not built). */
  async start(file: string): Promise<HistoryMemoryReport> {
    const started = performance.now();
    const request: HistoryBuildRequest = { file, maxEvents: this.maxEvents };
    this.build = runWorker<HistoryBuildReply>(
      siblingModule(import.meta.url, 'history-index-worker'),
      request,
    );
    let reply: HistoryBuildReply;
    try {
      reply = await this.build.result;
    } catch (err) {
      if (this.closed) return { built: false, reason: 'the store was closed' };
      throw err;
    } finally {
      this.build = null;
    }
    if (this.closed) return { built: false, reason: 'the store was closed' };
    if (reply.kind === 'failed') throw new Error(`history index not built: ${reply.error}`);
    if (reply.kind === 'skipped') return { built: false, reason: reply.reason };
    this.index = HistoryIndex.fromData(reply.data);
    this.watermark = this.index.lastId;
    this.deletionSeq = reply.deletionSeq;
    // Catch up on what was written during the build now rather than in the next request.
    this.sync(null, undefined, null);
    const index = this.index as HistoryIndex | null;
    if (!index) return { built: false, reason: 'the events outgrew the index while it was built' };
    return {
      built: true,
      events: index.live,
      bytes: index.bytes(),
      seconds: (performance.now() - started) / 1000,
    };
  }

  /**
   * The user's rows, most recent first (at most `limit`, only of `types` when given), as of now;
   * null while there is no index (the caller reads SQL).
   */
  recent(userId: string, limit: number, types: readonly string[] | null): IndexedHistory | null {
    if (!this.index) return null;
    const cached = types === null ? this.userKeys.get(userId) : undefined;
    const [maxId, , read, typeKeys] = this.sync(userId, cached, types);
    const index = this.index as HistoryIndex | null;
    // Still catching up on a large batch of new events: SQL answers this one.
    if (!index || (maxId ?? 0) > this.watermark) return null;
    const user = read === undefined ? cached : read;
    if (user === undefined || user === null) return { index, rows: new Int32Array(0) };
    if (read !== undefined && read !== null) this.cacheUserKey(userId, read);
    const keys = types === null ? null : (JSON.parse(typeKeys ?? '[]') as number[]);
    return { index, rows: index.recent(user, limit, keys) };
  }

  /** Stops a build in flight and drops the index. */
  async close(): Promise<void> {
    this.closed = true;
    this.index = null;
    this.userKeys.clear();
    await this.build?.stop();
  }

  /**
   * Brings the index up to the current snapshot; answers the sync statement of that snapshot,
   * with the user's key unless it was cached and nothing moved.
   */
  private sync(userId: string | null, cached: number | undefined, types: readonly string[] | null): Probe {
    const read = (withUser: boolean): Probe =>
      (types !== null
        ? this.probeWithTypes.get(userId, JSON.stringify(types))
        : withUser
          ? this.probeWithUser.get(userId)
          : this.probe.get()) as Probe;
    const first = read(userId !== null && cached === undefined);
    if ((first[0] ?? 0) === this.watermark && (first[1] ?? 0) === this.deletionSeq) return first;
    return this.db.transaction(() => {
      const probe = read(userId !== null);
      this.catchUp(probe[0] ?? 0, probe[1] ?? 0);
      return probe;
    })();
  }

  /** Steps 1-3 of the file comment; drops the index when it cannot follow. */
  private catchUp(maxId: number, maxSeq: number): void {
    const index = this.index;
    if (!index) return;
    if (maxSeq > this.deletionSeq) {
      const items = new Set<number>();
      for (const [eventId, user, item] of this.deletions.all(this.deletionSeq, maxSeq) as DeletionRow[]) {
        if (eventId !== null) index.deleteId(eventId);
        else if (user !== null) {
          index.deleteUser(user);
          this.userKeys.clear();
        } else if (item !== null) items.add(item);
      }
      index.deleteItems(items);
      this.deletionSeq = maxSeq;
      this.watermark = index.dropDeadTail();
    }
    if (maxId > this.watermark) {
      for (const row of this.newEvents.iterate(this.watermark, CATCH_UP_ROWS) as IterableIterator<KeyRow>) {
        // Memory stays bounded: past the cap, histories come from SQL again.
        if (index.live >= this.maxEvents || !index.append(row[0], row[1], row[2], row[3], row[4], row[5])) {
          this.index = null;
          this.userKeys.clear();
          return;
        }
      }
      this.watermark = index.lastId;
    }
  }

  private cacheUserKey(userId: string, key: number): void {
    if (this.userKeys.size >= MAX_CACHED_USERS) this.userKeys.clear();
    this.userKeys.set(userId, key);
  }
}
