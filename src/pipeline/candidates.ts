/**
 * The merged candidate set of one request, reused across requests: sources add (item, score)
 * pairs, an item proposed twice keeps one slot with both sources' bits and scores.
 */
import type { CandidateSet } from './types.js';

export class CandidateBuffer implements CandidateSet {
  size = 0;
  items: Int32Array;
  sources: Uint32Array;
  sourceScores: Float32Array;
  score: Float32Array;
  removed: Uint8Array;
  readonly slotOf: Int32Array;
  private capacity: number;

  constructor(
    catalogSize: number,
    readonly sourceCount: number,
    capacity = 2048,
  ) {
    if (sourceCount > 32) throw new RangeError('at most 32 candidate sources per placement');
    this.capacity = capacity;
    this.items = new Int32Array(capacity);
    this.sources = new Uint32Array(capacity);
    this.sourceScores = new Float32Array(sourceCount * capacity);
    this.score = new Float32Array(capacity);
    this.removed = new Uint8Array(capacity);
    this.slotOf = new Int32Array(catalogSize).fill(-1);
  }

  /** Empties the set (only the slots in use are cleared). */
  reset(): void {
    for (let s = 0; s < this.size; s++) this.slotOf[this.items[s]] = -1;
    this.size = 0;
  }

  /** Column stride of sourceScores: the score of source j for slot s is sourceScores[j * stride + s]. */
  get stride(): number {
    return this.capacity;
  }

  /** Adds the item for source `j` (keeps the best score when a source proposes an item twice). */
  add(j: number, item: number, score: number): void {
    if (item < 0 || item >= this.slotOf.length) return;
    let s = this.slotOf[item];
    if (s < 0) {
      if (this.size === this.capacity) this.grow();
      s = this.size++;
      this.slotOf[item] = s;
      this.items[s] = item;
      this.sources[s] = 0;
      this.score[s] = 0;
      this.removed[s] = 0;
      for (let c = 0; c < this.sourceCount; c++) this.sourceScores[c * this.capacity + s] = NaN;
    }
    const at = j * this.capacity + s;
    const bit = 1 << j;
    if ((this.sources[s] & bit) === 0 || score > this.sourceScores[at]) this.sourceScores[at] = score;
    this.sources[s] |= bit;
  }

  /** Candidates not removed. */
  alive(): number {
    let n = 0;
    for (let s = 0; s < this.size; s++) if (!this.removed[s]) n++;
    return n;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const items = new Int32Array(cap);
    items.set(this.items);
    const sources = new Uint32Array(cap);
    sources.set(this.sources);
    const score = new Float32Array(cap);
    score.set(this.score);
    const removed = new Uint8Array(cap);
    removed.set(this.removed);
    const ss = new Float32Array(this.sourceCount * cap);
    for (let c = 0; c < this.sourceCount; c++)
      ss.set(this.sourceScores.subarray(c * this.capacity, (c + 1) * this.capacity), c * cap);
    this.items = items;
    this.sources = sources;
    this.score = score;
    this.removed = removed;
    this.sourceScores = ss;
    this.capacity = cap;
  }
}
