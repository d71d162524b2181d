/** Picks the best entries of a score vector without allocating per request. */
import { TopKHeap } from '../../kernels/topk.js';

export class TopPicker {
  private readonly heap = new TopKHeap(64);
  private idx = new Int32Array(64);
  private val = new Float32Array(64);

  /** Offers every finite score in `scores`, then passes the best `limit` to `add`, best first. */
  fromScores(scores: Float32Array, limit: number, add: (item: number, score: number) => void): number {
    this.heap.reset(limit);
    for (let i = 0; i < scores.length; i++) this.heap.push(i, scores[i]);
    return this.drain(add);
  }

  /** Starts a selection of `limit` entries fed by push(). */
  begin(limit: number): void {
    this.heap.reset(limit);
  }

  push(item: number, score: number): void {
    this.heap.push(item, score);
  }

  /** Passes the kept entries to `add`, best first. */
  drain(add: (item: number, score: number) => void): number {
    const n = this.heap.size;
    if (this.idx.length < n) {
      this.idx = new Int32Array(n);
      this.val = new Float32Array(n);
    }
    this.heap.drainInto(this.idx, this.val);
    for (let r = 0; r < n; r++) add(this.idx[r], this.val[r]);
    return n;
  }
}
