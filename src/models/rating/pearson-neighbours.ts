/**
 * Pearson-baseline item neighbours (the similarity of KNNBaseline): for items i and j over the
 * users U_ij who rated both, on rating residuals ρ,
 *
 *   s_ij = Σ_U ρ_ui ρ_uj / √(Σ_U ρ_ui² · Σ_U ρ_uj²) · (|U_ij| − 1) / (|U_ij| − 1 + shrinkage)
 *
 * (0 when |U_ij| < max(2, minSupport)); every item keeps its best `maxNeighbours` positive
 * similarities. Rows are computed one item at a time by merging the rows of the item's users
 * into dense accumulators, so any item range can be computed on its own (see knn-parallel.ts).
 */
import { TopKHeap } from '../../kernels/topk.js';
import type { RatingSet } from './rating-kit.js';

export interface NeighbourSettings {
  shrinkage: number;
  minSupport: number;
  /** Neighbours kept per item (0: all). */
  maxNeighbours: number;
}

/** Neighbour lists, best first: entity i's are at [ptr[i], ptr[i+1]). */
export interface RatingNeighbours {
  ptr: Int32Array;
  index: Int32Array;
  sim: Float32Array;
}

/** What the Pearson-baseline neighbour computation reads. */
export interface NeighbourInput extends NeighbourSettings {
  items: number;
  userPtr: Int32Array;
  itemOf: Int32Array;
  userOf: Int32Array;
  itemPtr: Int32Array;
  itemPos: Int32Array;
  /** Residual of each rating position. */
  residual: Float64Array;
}

export function neighbourInput(set: RatingSet, residual: Float64Array, p: NeighbourSettings): NeighbourInput {
  const { items, userPtr, itemOf, userOf, itemPtr, itemPos } = set;
  return {
    items,
    userPtr,
    itemOf,
    userOf,
    itemPtr,
    itemPos,
    residual,
    shrinkage: p.shrinkage,
    minSupport: p.minSupport,
    maxNeighbours: p.maxNeighbours,
  };
}

/**
 * Pearson-baseline similarities between the columns ("items") of the set, on the residual of
 * each rating position; every item keeps its best `maxNeighbours` positive similarities.
 */
export function pearsonBaselineNeighbours(
  set: RatingSet,
  residual: Float64Array,
  p: NeighbourSettings,
): RatingNeighbours {
  return new NeighbourComputer(neighbourInput(set, residual, p)).run(0, set.items);
}

/** Estimated cost of each item's row (co-rating pairs visited), as a prefix sum over items. */
export function neighbourWork(input: NeighbourInput): Float64Array {
  const { items, userPtr, userOf, itemPtr, itemPos } = input;
  const prefix = new Float64Array(items + 1);
  for (let i = 0; i < items; i++) {
    let w = 0;
    for (let a = itemPtr[i]; a < itemPtr[i + 1]; a++) {
      const u = userOf[itemPos[a]];
      w += userPtr[u + 1] - userPtr[u];
    }
    prefix[i + 1] = prefix[i] + w;
  }
  return prefix;
}

/** Computes the neighbour lists of item ranges, with scratch buffers reused across ranges. */
export class NeighbourComputer {
  /** Per item j: [users in common, Σ ρ_i ρ_j, Σ ρ_i², Σ ρ_j²], side by side for locality. */
  private readonly acc: Float64Array;
  private readonly square: Float64Array;
  private readonly touched: Int32Array;
  private readonly heap: TopKHeap;
  private readonly keep: number;

  constructor(private readonly input: NeighbourInput) {
    const { items, residual } = input;
    this.acc = new Float64Array(4 * items);
    this.square = new Float64Array(residual.length);
    for (let p = 0; p < residual.length; p++) this.square[p] = residual[p] * residual[p];
    this.touched = new Int32Array(items);
    this.keep = input.maxNeighbours > 0 ? input.maxNeighbours : items;
    this.heap = new TopKHeap(Math.max(1, Math.min(items, this.keep)));
  }

  /** Lists of the items from .. to − 1 (ptr relative to the range). */
  run(from: number, to: number): RatingNeighbours {
    const { userPtr, itemOf, userOf, itemPtr, itemPos, residual, shrinkage } = this.input;
    const { acc, square, touched, heap, keep } = this;
    const minSupport = Math.max(this.input.minSupport, 2);
    const rows = to - from;
    const ptr = new Int32Array(rows + 1);
    let index = new Int32Array(Math.max(1, Math.min(rows * 64, rows * keep)));
    let sim = new Float32Array(index.length);
    let nnz = 0;
    for (let i = from; i < to; i++) {
      let nt = 0;
      for (let a = itemPtr[i], aEnd = itemPtr[i + 1]; a < aEnd; a++) {
        const pos = itemPos[a];
        const ri = residual[pos];
        const ri2 = square[pos];
        const u = userOf[pos];
        for (let b = userPtr[u], bEnd = userPtr[u + 1]; b < bEnd; b++) {
          const o = itemOf[b] << 2;
          if (acc[o] === 0) touched[nt++] = o;
          acc[o] += 1;
          acc[o + 1] += ri * residual[b];
          acc[o + 2] += ri2;
          acc[o + 3] += square[b];
        }
      }
      heap.reset(Math.min(keep, nt));
      for (let t = 0; t < nt; t++) {
        const o = touched[t];
        const j = o >> 2;
        const c = acc[o];
        const prod = acc[o + 1];
        if (j !== i && c >= minSupport && prod > 0) {
          const d = Math.sqrt(acc[o + 2] * acc[o + 3]);
          if (d > 0) heap.push(j, (prod / d) * ((c - 1) / (c - 1 + shrinkage)));
        }
        acc[o] = 0;
        acc[o + 1] = 0;
        acc[o + 2] = 0;
        acc[o + 3] = 0;
      }
      if (nnz + heap.size > index.length) {
        const grown = Math.max(index.length * 2, nnz + heap.size);
        const ni = new Int32Array(grown);
        ni.set(index.subarray(0, nnz));
        index = ni;
        const ns = new Float32Array(grown);
        ns.set(sim.subarray(0, nnz));
        sim = ns;
      }
      nnz += heap.drainInto(index, sim, nnz);
      ptr[i - from + 1] = nnz;
    }
    return { ptr, index: index.slice(0, nnz), sim: sim.slice(0, nnz) };
  }
}
