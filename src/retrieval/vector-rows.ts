/** Item vectors in one growable row-major Float32Array. */
export class VectorRows {
  private data: Float32Array;
  private count: number;

  /** Takes `vectors` (count × dim) as the first rows (copied). */
  constructor(
    readonly dim: number,
    vectors: Float32Array,
    count: number,
  ) {
    this.data = new Float32Array(Math.max(count, 16) * dim);
    this.data.set(vectors.subarray(0, count * dim));
    this.count = count;
  }

  get size(): number {
    return this.count;
  }

  /** The rows in use (a view, valid until the next append). */
  get rows(): Float32Array {
    return this.data.subarray(0, this.count * this.dim);
  }

  /** Row i (a view, valid until the next append). */
  row(i: number): Float32Array {
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** Appends a row, growing the storage by half when full; returns its index. */
  append(v: Float32Array): number {
    const d = this.dim;
    if ((this.count + 1) * d > this.data.length) {
      const grown = new Float32Array(Math.ceil(this.data.length * 1.5 + d));
      grown.set(this.data.subarray(0, this.count * d));
      this.data = grown;
    }
    this.data.set(v, this.count * d);
    return this.count++;
  }

  set(i: number, v: Float32Array): void {
    this.data.set(v, i * this.dim);
  }

  /** Inner product of row i with `q`, in float64. */
  dot(i: number, q: Float32Array): number {
    const d = this.dim;
    const a = this.data;
    const o = i * d;
    let s = 0;
    for (let f = 0; f < d; f++) s += a[o + f] * q[f];
    return s;
  }

  /** Squared Euclidean norm of row i. */
  normSquared(i: number): number {
    const d = this.dim;
    const a = this.data;
    const o = i * d;
    let s = 0;
    for (let f = 0; f < d; f++) s += a[o + f] * a[o + f];
    return s;
  }
}
