/** Compressed sparse row matrix on typed arrays: row r spans indices/data[indptr[r] .. indptr[r+1]). */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}
