import { describe, expect, it } from 'vitest';
import type { CsrMatrix } from '../../src/data/csr.js';
import {
  columnCounts,
  columnSums,
  csrFromCoo,
  csrGet,
  csrNnz,
  emptyCsr,
  rowNorms,
  transformValues,
  transposeCsr,
} from '../../src/data/csr-build.js';

function dense(m: CsrMatrix): number[][] {
  const out = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) out[r][m.indices[p]] += m.data[p];
  }
  return out;
}

function coo(entries: [number, number, number][]): [Int32Array, Int32Array, Float32Array] {
  return [
    Int32Array.from(entries.map((e) => e[0])),
    Int32Array.from(entries.map((e) => e[1])),
    Float32Array.from(entries.map((e) => e[2])),
  ];
}

describe('csrFromCoo', () => {
  it('sums duplicate coordinates and sorts columns within rows', () => {
    const [r, c, v] = coo([
      [1, 3, 1],
      [0, 2, 5],
      [1, 0, 2],
      [1, 3, 4],
      [0, 2, 0.5],
      [2, 1, 7],
      [1, 3, 1],
    ]);
    const m = csrFromCoo(3, 4, r, c, v);
    expect(Array.from(m.indptr)).toEqual([0, 1, 3, 4]);
    expect(Array.from(m.indices)).toEqual([2, 0, 3, 1]);
    expect(Array.from(m.data)).toEqual([5.5, 2, 6, 7]);
    expect(csrNnz(m)).toBe(4);
    expect(dense(m)).toEqual([
      [0, 0, 5.5, 0],
      [2, 0, 0, 6],
      [0, 7, 0, 0],
    ]);
  });

  it('matches a dense reference on random input with many duplicates', () => {
    let seed = 3;
    const rnd = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296;
    const rows = 17;
    const cols = 11;
    const n = 600;
    const r = new Int32Array(n);
    const c = new Int32Array(n);
    const v = new Float32Array(n);
    const ref = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
    for (let e = 0; e < n; e++) {
      r[e] = Math.floor(rnd() * rows);
      c[e] = Math.floor(rnd() * cols);
      v[e] = Math.floor(rnd() * 8) + 1;
      ref[r[e]][c[e]] += v[e];
    }
    const m = csrFromCoo(rows, cols, r, c, v);
    expect(dense(m)).toEqual(ref);
    for (let row = 0; row < rows; row++) {
      for (let p = m.indptr[row] + 1; p < m.indptr[row + 1]; p++)
        expect(m.indices[p]).toBeGreaterThan(m.indices[p - 1]);
    }
  });

  it('uses only the first `length` entries', () => {
    const [r, c, v] = coo([
      [0, 0, 1],
      [1, 1, 1],
    ]);
    const m = csrFromCoo(2, 2, r, c, v, 1);
    expect(csrNnz(m)).toBe(1);
    expect(Array.from(m.indptr)).toEqual([0, 1, 1]);
  });

  it('rejects coordinates outside the shape', () => {
    const [r, c, v] = coo([[0, 5, 1]]);
    expect(() => csrFromCoo(1, 5, r, c, v)).toThrow(RangeError);
    expect(() => csrFromCoo(1, 6, r, c, v, 2)).toThrow(RangeError);
  });

  it('handles empty input', () => {
    const m = csrFromCoo(3, 2, new Int32Array(0), new Int32Array(0), new Float32Array(0));
    expect(Array.from(m.indptr)).toEqual([0, 0, 0, 0]);
    expect(emptyCsr(3, 2)).toEqual(m);
  });
});

describe('CSR transforms', () => {
  const [r, c, v] = coo([
    [0, 1, 3],
    [0, 2, 4],
    [1, 0, 1],
    [2, 2, 2],
  ]);
  const m = csrFromCoo(3, 3, r, c, v);

  it('transposes with sorted indices', () => {
    const t = transposeCsr(m);
    expect(t.rows).toBe(3);
    expect(t.cols).toBe(3);
    expect(dense(t)).toEqual([
      [0, 1, 0],
      [3, 0, 0],
      [4, 0, 2],
    ]);
    expect(Array.from(t.indices)).toEqual([1, 0, 0, 2]);
    expect(dense(transposeCsr(t))).toEqual(dense(m));
  });

  it('transforms values without touching the pattern', () => {
    expect(Array.from(transformValues(m, 'binary').data)).toEqual([1, 1, 1, 1]);
    expect(transformValues(m, 'log1p').data[0]).toBeCloseTo(Math.log(4), 6);
    const id = transformValues(m, 'identity');
    expect(Array.from(id.data)).toEqual(Array.from(m.data));
    expect(id.data).not.toBe(m.data);
    expect(id.indices).toBe(m.indices);
  });

  it('computes norms, column counts and sums, and single entries', () => {
    expect(Array.from(rowNorms(m))).toEqual([5, 1, 2]);
    expect(Array.from(columnCounts(m))).toEqual([1, 1, 2]);
    expect(Array.from(columnSums(m))).toEqual([1, 3, 6]);
    expect(csrGet(m, 0, 2)).toBe(4);
    expect(csrGet(m, 0, 0)).toBe(0);
    expect(csrGet(m, 2, 2)).toBe(2);
  });
});
