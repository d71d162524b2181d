/**
 * Per-item sums of one request's neighbour lists, in a small open-addressing table instead of
 * arrays as long as the catalogue: a request touches about a thousand items, and a table of a few
 * thousand slots stays in the core's cache where catalogue-long arrays miss on almost every touch.
 *
 * Besides the sum, each item keeps the seed most similar to it (ties to the earlier seed), for
 * explanations. Items are remembered in the order they were first touched.
 */
export class ItemAccumulator {
  private keys: Int32Array;
  private sums: Float32Array;
  private seeds: Int32Array;
  private similarities: Float64Array;
  /** Table slots in first-touch order. */
  private order: Int32Array;
  private count = 0;
  private mask: number;
  private shift: number;

  constructor(expected = 1024) {
    const bits = Math.max(4, Math.ceil(Math.log2(Math.max(1, expected) * 2)));
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.keys = new Int32Array(1 << bits).fill(-1);
    this.sums = new Float32Array(1 << bits);
    this.seeds = new Int32Array(1 << bits);
    this.similarities = new Float64Array(1 << bits);
    this.order = new Int32Array(1 << (bits - 1));
  }

  /** Items touched since the last clear. */
  get size(): number {
    return this.count;
  }

  /** Forgets every item. */
  clear(): void {
    const keys = this.keys;
    const order = this.order;
    for (let t = 0; t < this.count; t++) keys[order[t]] = -1;
    this.count = 0;
  }

  /**
   * sum[item] += amount (summed in float32, as a Float32Array element would be); `seed` becomes
   * the item's seed when `similarity` beats the one it has.
   */
  add(item: number, amount: number, seed: number, similarity: number): void {
    let slot = this.slotOf(item);
    if (this.keys[slot] !== item) {
      // At most half the slots in use, so probes stay short.
      if (this.count >= this.order.length) {
        this.grow();
        slot = this.slotOf(item);
      }
      this.keys[slot] = item;
      this.sums[slot] = 0;
      this.seeds[slot] = -1;
      this.similarities[slot] = 0;
      this.order[this.count++] = slot;
    }
    this.sums[slot] += amount;
    if (similarity > this.similarities[slot]) {
      this.similarities[slot] = similarity;
      this.seeds[slot] = seed;
    }
  }

  /** The t-th item touched (0 ≤ t < size). */
  itemAt(t: number): number {
    return this.keys[this.order[t]];
  }

  /** The sum of the t-th item touched. */
  sumAt(t: number): number {
    return this.sums[this.order[t]];
  }

  /** The item's seed, -1 when it was not touched. */
  seedOf(item: number): number {
    const slot = this.slotOf(item);
    return this.keys[slot] === item ? this.seeds[slot] : -1;
  }

  /** The slot holding `item`, or the empty slot where it would go. */
  private slotOf(item: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let slot = Math.imul(item, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const k = keys[slot];
      if (k === item || k === -1) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Doubles the table, keeping the items and their first-touch order. */
  private grow(): void {
    const { keys, sums, seeds, similarities, order, count } = this;
    const size = keys.length * 2;
    this.mask = size - 1;
    this.shift -= 1;
    this.keys = new Int32Array(size).fill(-1);
    this.sums = new Float32Array(size);
    this.seeds = new Int32Array(size);
    this.similarities = new Float64Array(size);
    this.order = new Int32Array(size >> 1);
    for (let t = 0; t < count; t++) {
      const from = order[t];
      const to = this.slotOf(keys[from]);
      this.keys[to] = keys[from];
      this.sums[to] = sums[from];
      this.seeds[to] = seeds[from];
      this.similarities[to] = similarities[from];
      this.order[t] = to;
    }
  }
}
