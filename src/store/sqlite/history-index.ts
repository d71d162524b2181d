/**
 * Every user's events in memory, for answering histories without SQL: one row per event in
 * growable typed-array columns, appended in event-id order, and per user a linked list through
 * the rows (`head` → newest row, `links` → the user's previous row). About 27 bytes per event.
 * A deleted row keeps its link, encoded below NONE, so walking a user's rows reads no other
 * column to skip it.
 *
 * Following links costs a dependent memory access per row: reading ~40 rows scattered over a
 * few million is latency-bound. `seal` therefore also lays out each user's rows contiguously
 * (`blockRows`, newest first, from `blockStart[user]`), for the rows present then (the bulk, after
 * a build); rows appended later are reached through their links, and the walk switches to the
 * block at the first row below `sealed`. About 4 more bytes per event.
 *
 * Rows are never moved: a deleted event is only marked, except that dead rows at the end are cut
 * off (`dropDeadTail`) so the next event may reuse an id. Appends must bring ids above every row
 * held, which keeps the id column strictly increasing: one binary search finds an event, and
 * among the rows of a user, row order is id order.
 *
 * Ids and keys must fit an Int32; `append` refuses anything else and the index is then unusable
 * (the owner falls back to SQL).
 */

const NONE = -1;
const INT32_MAX = 2 ** 31 - 1;
/** Flag bit: the value is in `exact` (Float32 would round it). */
const EXACT = 1;
/** Rows added when a column grows, relative to its capacity. */
const GROWTH = 1.5;
const MIN_CAPACITY = 1024;
/** Exact doubles kept beside the Float32 values before the value column turns into Float64. */
const MAX_EXACT_FRACTION = 1 / 16;
const MIN_EXACT = 4096;
/** Rough heap cost of one Map entry, for `bytes()`. */
const MAP_ENTRY_BYTES = 48;

const EMPTY = new Int32Array(0);

/** The columns of an index, for moving it between threads (every typed array is transferable). */
export interface HistoryIndexData {
  length: number;
  live: number;
  ids: Int32Array;
  items: Int32Array;
  types: Int16Array | Int32Array;
  values: Float32Array | Float64Array;
  exact: Map<number, number>;
  timestamps: Float64Array;
  links: Int32Array;
  flags: Uint8Array;
  head: Int32Array;
  sealed: number;
  blockStart: Int32Array;
  blockRows: Int32Array;
}

/** The link of a deleted row whose previous row is `prev` (≥ NONE), and back: always below NONE. */
const deadLink = (prev: number): number => -prev - 3;

function isInt32Key(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= INT32_MAX;
}

function grown<T extends Int32Array | Int16Array | Float32Array | Float64Array | Uint8Array>(
  column: T,
  capacity: number,
): T {
  const next = new (column.constructor as new (n: number) => T)(capacity);
  next.set(column);
  return next;
}

export class HistoryIndex {
  private length: number;
  private liveRows: number;
  private ids: Int32Array;
  private items: Int32Array;
  private types: Int16Array | Int32Array;
  private values: Float32Array | Float64Array;
  /** Row → value, for the rows flagged EXACT (only while `values` is Float32). */
  private exact: Map<number, number>;
  private timestamps: Float64Array;
  /** The user's previous row (NONE: none), or deadLink of it when the row is deleted. */
  private links: Int32Array;
  private flags: Uint8Array;
  /** User key → newest row of that user (NONE: no rows). */
  private head: Int32Array;
  /** Rows below this are in the blocks (see the file comment). */
  private sealed: number;
  /** User key → start of the user's rows in `blockRows`; users up to `blockStart.length - 2`. */
  private blockStart: Int32Array;
  private blockRows: Int32Array;
  /** State of the `recent` answer being collected. */
  private answerRows = 0;
  private answerSorted = true;
  private answerLastTs = Infinity;
  /** Rows of the last `recent` answer; reused across calls. */
  private scratch = new Int32Array(256);
  private readonly byRecency = (a: number, b: number): number => {
    const ta = this.timestamps[a];
    const tb = this.timestamps[b];
    return tb > ta ? 1 : tb < ta ? -1 : b - a;
  };

  private constructor(data: HistoryIndexData) {
    this.length = data.length;
    this.liveRows = data.live;
    this.ids = data.ids;
    this.items = data.items;
    this.types = data.types;
    this.values = data.values;
    this.exact = data.exact;
    this.timestamps = data.timestamps;
    this.links = data.links;
    this.flags = data.flags;
    this.head = data.head;
    this.sealed = data.sealed;
    this.blockStart = data.blockStart;
    this.blockRows = data.blockRows;
  }

  /** An empty index with room for `rows` events before any column grows. */
  static withCapacity(rows: number): HistoryIndex {
    const capacity = Math.max(MIN_CAPACITY, Math.ceil(rows));
    return new HistoryIndex({
      length: 0,
      live: 0,
      ids: new Int32Array(capacity),
      items: new Int32Array(capacity),
      types: new Int16Array(capacity),
      values: new Float32Array(capacity),
      exact: new Map(),
      timestamps: new Float64Array(capacity),
      links: new Int32Array(capacity),
      flags: new Uint8Array(capacity),
      head: new Int32Array(MIN_CAPACITY).fill(NONE),
      sealed: 0,
      blockStart: new Int32Array(0),
      blockRows: new Int32Array(0),
    });
  }

  /** Takes over columns made by `toData` (possibly on another thread). */
  static fromData(data: HistoryIndexData): HistoryIndex {
    return new HistoryIndex(data);
  }

  /** The columns, and the buffers to transfer them with; this index must not be used afterwards. */
  toData(): { data: HistoryIndexData; transfer: ArrayBuffer[] } {
    const data: HistoryIndexData = {
      length: this.length,
      live: this.liveRows,
      ids: this.ids,
      items: this.items,
      types: this.types,
      values: this.values,
      exact: this.exact,
      timestamps: this.timestamps,
      links: this.links,
      flags: this.flags,
      head: this.head,
      sealed: this.sealed,
      blockStart: this.blockStart,
      blockRows: this.blockRows,
    };
    const columns = [data.ids, data.items, data.types, data.values, data.timestamps, data.links, data.flags];
    const arrays = [...columns, data.head, data.blockStart, data.blockRows];
    return { data, transfer: arrays.map((c) => c.buffer as ArrayBuffer) };
  }

  /** Rows held, deleted ones included. */
  get rows(): number {
    return this.length;
  }

  /** Rows not deleted. */
  get live(): number {
    return this.liveRows;
  }

  /** The id of the last row (0 when empty); every later append must be above it. */
  get lastId(): number {
    return this.length === 0 ? 0 : this.ids[this.length - 1];
  }

  /**
   * Appends an event (value null for none). Returns false, changing nothing, when the id is not
   * above `lastId` or an id or key does not fit an Int32.
   */
  append(id: number, user: number, item: number, type: number, value: number | null, ts: number): boolean {
    if (!(isInt32Key(id) && isInt32Key(user) && isInt32Key(item) && isInt32Key(type))) return false;
    if (id <= this.lastId) return false;
    if (this.length === this.ids.length) this.growRows();
    if (user >= this.head.length) this.growHead(user);
    if (this.types instanceof Int16Array && type > 32767) this.types = Int32Array.from(this.types);
    const row = this.length++;
    this.ids[row] = id;
    this.items[row] = item;
    this.types[row] = type;
    this.timestamps[row] = ts;
    this.flags[row] = 0;
    this.setValue(row, value);
    this.links[row] = this.head[user];
    this.head[user] = row;
    this.liveRows++;
    return true;
  }

  /** Lays out every user's rows contiguously, newest first (see the file comment). */
  seal(): void {
    const users = this.head.length;
    const blockStart = new Int32Array(users + 1);
    const blockRows = new Int32Array(this.length);
    let k = 0;
    for (let user = 0; user < users; user++) {
      blockStart[user] = k;
      for (let row = this.head[user]; row !== NONE; row = this.prevRow(row)) blockRows[k++] = row;
    }
    blockStart[users] = k;
    this.blockStart = blockStart;
    this.blockRows = blockRows;
    this.sealed = this.length;
  }

  /** Marks the event with this id deleted; returns the rows marked (0 or 1: ids are unique). */
  deleteId(id: number): number {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.ids[mid];
      if (at === id) return this.markDead(mid);
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Marks every event of a user deleted; returns the rows marked. */
  deleteUser(user: number): number {
    if (!(user >= 0 && user < this.head.length)) return 0;
    let marked = 0;
    for (let row = this.head[user]; row !== NONE; row = this.prevRow(row)) marked += this.markDead(row);
    return marked;
  }

  /** Marks every event on any of these items deleted (one scan of the item column); returns the rows marked. */
  deleteItems(items: ReadonlySet<number>): number {
    if (items.size === 0) return 0;
    let marked = 0;
    const column = this.items;
    for (let row = 0; row < this.length; row++) if (items.has(column[row])) marked += this.markDead(row);
    return marked;
  }

  /**
   * Cuts deleted rows off the end, so that new events may take ids up to the last live row's
   * again, and returns that id (0 when no row is left). The users whose newest rows are cut are
   * found through `head`: there is no user column, and deleting the newest events is rare.
   */
  dropDeadTail(): number {
    let cut = this.length;
    while (cut > 0 && this.links[cut - 1] < NONE) cut--;
    if (cut < this.length) {
      const head = this.head;
      // A user's rows are linked newest first, so popping rows at or past `cut` leaves the
      // head on their newest row that stays.
      for (let user = 0; user < head.length; user++) {
        while (head[user] >= cut) head[user] = this.prevRow(head[user]);
      }
      this.length = cut;
      // Block entries at or past `cut` lead their users' blocks (newest first) and are skipped.
      this.sealed = Math.min(this.sealed, cut);
    }
    return this.lastId;
  }

  /**
   * A user's live rows, most recent first (timestamp descending, then id descending), at most
   * `limit`, optionally only those whose type key is in `typeKeys`. The array is reused by the
   * next call.
   */
  recent(user: number, limit: number, typeKeys: readonly number[] | null): Int32Array {
    if (!(user >= 0 && user < this.head.length) || limit <= 0) return EMPTY;
    const { links, sealed } = this;
    this.answerRows = 0;
    this.answerSorted = true;
    this.answerLastTs = Infinity;
    // Rows come newest id first; they are already in answer order unless a timestamp goes up.
    let row = this.head[user];
    while (row >= sealed) {
      const link = links[row];
      if (link < NONE) {
        row = deadLink(link);
        continue;
      }
      this.keep(row, typeKeys);
      row = link;
    }
    if (row !== NONE && user < this.blockStart.length - 1) {
      const { blockRows } = this;
      const end = this.blockStart[user + 1];
      let k = this.blockStart[user];
      while (k < end && blockRows[k] >= sealed) k++;
      for (; k < end; k++) {
        const at = blockRows[k];
        if (links[at] >= NONE) this.keep(at, typeKeys);
      }
    }
    const n = this.answerRows;
    const rows = this.scratch.subarray(0, n);
    if (!this.answerSorted) rows.sort(this.byRecency);
    return n > limit ? rows.subarray(0, limit) : rows;
  }

  itemKey(row: number): number {
    return this.items[row];
  }

  typeKey(row: number): number {
    return this.types[row];
  }

  /** The event's value as stored (null for none). */
  value(row: number): number | null {
    const v = this.values[row];
    if (v !== v) return null;
    if (this.exact.size !== 0 && (this.flags[row] & EXACT) !== 0) return this.exact.get(row) ?? v;
    return v;
  }

  timestamp(row: number): number {
    return this.timestamps[row];
  }

  /** Memory held: the columns' full capacity, the user heads, the answer buffer and exact values. */
  bytes(): number {
    const arrays = [this.ids, this.items, this.types, this.values, this.timestamps, this.links, this.flags];
    let total = this.head.byteLength + this.scratch.byteLength + this.exact.size * MAP_ENTRY_BYTES;
    total += this.blockStart.byteLength + this.blockRows.byteLength;
    for (const a of arrays) total += a.byteLength;
    return total;
  }

  /** Adds a live row to the answer being collected when its type is wanted. */
  private keep(row: number, typeKeys: readonly number[] | null): void {
    if (typeKeys !== null && !typeKeys.includes(this.types[row])) return;
    if (this.answerRows === this.scratch.length) this.scratch = grown(this.scratch, this.scratch.length * 2);
    this.scratch[this.answerRows++] = row;
    const ts = this.timestamps[row];
    if (ts > this.answerLastTs) this.answerSorted = false;
    this.answerLastTs = ts;
  }

  private prevRow(row: number): number {
    const link = this.links[row];
    return link < NONE ? deadLink(link) : link;
  }

  private markDead(row: number): number {
    const link = this.links[row];
    if (link < NONE) return 0;
    this.links[row] = deadLink(link);
    if ((this.flags[row] & EXACT) !== 0) this.exact.delete(row);
    this.flags[row] = 0;
    this.liveRows--;
    return 1;
  }

  /** Float32 where it holds the value exactly; NaN for none (SQLite stores NaN as NULL). */
  private setValue(row: number, value: number | null): void {
    if (value === null) {
      this.values[row] = NaN;
      return;
    }
    this.values[row] = value;
    if (this.values instanceof Float64Array || Math.fround(value) === value) return;
    this.exact.set(row, value);
    this.flags[row] |= EXACT;
    if (this.exact.size > Math.max(MIN_EXACT, this.length * MAX_EXACT_FRACTION)) this.widenValues();
  }

  /** Many values need a double: one Float64 column costs less than a map entry for each. */
  private widenValues(): void {
    const values = Float64Array.from(this.values);
    for (const [row, value] of this.exact) {
      values[row] = value;
      this.flags[row] &= ~EXACT;
    }
    this.values = values;
    this.exact = new Map();
  }

  private growRows(): void {
    const capacity = Math.max(MIN_CAPACITY, Math.ceil(this.ids.length * GROWTH));
    this.ids = grown(this.ids, capacity);
    this.items = grown(this.items, capacity);
    this.types = grown(this.types, capacity);
    this.values = grown(this.values, capacity);
    this.timestamps = grown(this.timestamps, capacity);
    this.links = grown(this.links, capacity);
    this.flags = grown(this.flags, capacity);
  }

  private growHead(user: number): void {
    const size = Math.min(INT32_MAX, Math.max(user + 1, Math.ceil(this.head.length * GROWTH)));
    const head = new Int32Array(size).fill(NONE);
    head.set(this.head);
    this.head = head;
  }
}
