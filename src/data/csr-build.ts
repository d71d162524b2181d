/**
 * Building and transforming CsrMatrix values. Every routine runs in O(nnz + rows + cols)
 * over typed arrays; none allocates per entry.
 */
import type { CsrMatrix } from './csr.js';

/** How `transformValues` maps each stored value. */
export type ValueTransform = 'identity' | 'binary' | 'log1p';

/** An all-zero matrix of the given shape. */
export function emptyCsr(rows: number, cols: number): CsrMatrix {
  return {
    rows,
    cols,
    indptr: new Int32Array(rows + 1),
    indices: new Int32Array(0),
    data: new Float32Array(0),
  };
}

/** Number of stored entries. */
export function csrNnz(m: CsrMatrix): number {
  return m.indptr[m.rows];
}

/**
 * Builds a `rows` x `cols` CSR matrix from the first `length` coordinate triples
 * (`rowIdx[e]`, `colIdx[e]`, `values[e]`). Duplicate coordinates are summed; column indices
 * come out ascending within each row. Throws RangeError on an out-of-range coordinate.
 */
export function csrFromCoo(
  rows: number,
  cols: number,
  rowIdx: Int32Array,
  colIdx: Int32Array,
  values: Float32Array,
  length: number = rowIdx.length,
): CsrMatrix {
  if (length > rowIdx.length || length > colIdx.length || length > values.length) {
    throw new RangeError(`length ${length} exceeds the coordinate arrays`);
  }
  // Pass 1: counting sort of the entries by column, as a permutation.
  const colStart = new Int32Array(cols + 1);
  const rowCount = new Int32Array(rows + 1);
  for (let e = 0; e < length; e++) {
    const r = rowIdx[e];
    const c = colIdx[e];
    if (r < 0 || r >= rows || c < 0 || c >= cols) {
      throw new RangeError(`entry ${e} at (${r}, ${c}) is outside a ${rows} x ${cols} matrix`);
    }
    colStart[c + 1]++;
    rowCount[r + 1]++;
  }
  for (let c = 0; c < cols; c++) colStart[c + 1] += colStart[c];
  const byCol = new Int32Array(length);
  for (let e = 0; e < length; e++) byCol[colStart[colIdx[e]]++] = e;

  // Pass 2: stable counting sort by row, so columns stay ascending inside each row.
  const indptr = rowCount;
  for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
  const next = indptr.slice(0, rows);
  const indices = new Int32Array(length);
  const data = new Float32Array(length);
  for (let p = 0; p < length; p++) {
    const e = byCol[p];
    const q = next[rowIdx[e]]++;
    indices[q] = colIdx[e];
    data[q] = values[e];
  }
  return sumAdjacentDuplicates({ rows, cols, indptr, indices, data });
}

/** Merges runs of equal column indices inside each row (columns must be sorted), in place. */
function sumAdjacentDuplicates(m: CsrMatrix): CsrMatrix {
  const { rows, indptr, indices, data } = m;
  let w = 0;
  let start = 0;
  for (let r = 0; r < rows; r++) {
    const end = indptr[r + 1];
    const rowStart = w;
    for (let p = start; p < end; p++) {
      const c = indices[p];
      if (w > rowStart && indices[w - 1] === c) {
        data[w - 1] += data[p];
      } else {
        indices[w] = c;
        data[w] = data[p];
        w++;
      }
    }
    start = end;
    indptr[r + 1] = w;
  }
  if (w === indices.length) return m;
  return { rows: m.rows, cols: m.cols, indptr, indices: indices.slice(0, w), data: data.slice(0, w) };
}

/** The transpose, with ascending column indices in every row. */
export function transposeCsr(m: CsrMatrix): CsrMatrix {
  const { rows, cols, indptr, indices, data } = m;
  const nnz = indptr[rows];
  const tptr = new Int32Array(cols + 1);
  for (let p = 0; p < nnz; p++) tptr[indices[p] + 1]++;
  for (let c = 0; c < cols; c++) tptr[c + 1] += tptr[c];
  const next = tptr.slice(0, cols);
  const tind = new Int32Array(nnz);
  const tdata = new Float32Array(nnz);
  for (let r = 0; r < rows; r++) {
    for (let p = indptr[r], end = indptr[r + 1]; p < end; p++) {
      const q = next[indices[p]]++;
      tind[q] = r;
      tdata[q] = data[p];
    }
  }
  return { rows: cols, cols: rows, indptr: tptr, indices: tind, data: tdata };
}

/** A matrix with the same sparsity pattern (shared index arrays) and transformed values. */
export function transformValues(m: CsrMatrix, transform: ValueTransform): CsrMatrix {
  const src = m.data;
  const n = src.length;
  const data = new Float32Array(n);
  switch (transform) {
    case 'identity':
      data.set(src);
      break;
    case 'binary':
      data.fill(1);
      break;
    case 'log1p':
      for (let p = 0; p < n; p++) data[p] = Math.log1p(src[p]);
      break;
  }
  return { rows: m.rows, cols: m.cols, indptr: m.indptr, indices: m.indices, data };
}

/** Euclidean norm of every row. */
export function rowNorms(m: CsrMatrix): Float64Array {
  const out = new Float64Array(m.rows);
  const { indptr, data } = m;
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let p = indptr[r], end = indptr[r + 1]; p < end; p++) s += data[p] * data[p];
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** Number of stored entries in every column. */
export function columnCounts(m: CsrMatrix): Int32Array {
  const out = new Int32Array(m.cols);
  const { indices } = m;
  for (let p = 0, nnz = m.indptr[m.rows]; p < nnz; p++) out[indices[p]]++;
  return out;
}

/** Sum of the stored values in every column. */
export function columnSums(m: CsrMatrix): Float64Array {
  const out = new Float64Array(m.cols);
  const { indices, data } = m;
  for (let p = 0, nnz = m.indptr[m.rows]; p < nnz; p++) out[indices[p]] += data[p];
  return out;
}

/** Value at (row, col), 0 when not stored. Columns must be sorted within rows. */
export function csrGet(m: CsrMatrix, row: number, col: number): number {
  let lo = m.indptr[row];
  let hi = m.indptr[row + 1] - 1;
  const { indices } = m;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = indices[mid];
    if (c === col) return m.data[mid];
    if (c < col) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}
