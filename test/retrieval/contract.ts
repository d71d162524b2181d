/**
 * The VectorIndex contract, run against every implementation (see *-index.test.ts). Indexes
 * are built on small data where an approximate index is expected to search exhaustively, so
 * every implementation must agree with a brute-force reference computed here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/ingest/prng.js';
import { loadVectorIndex } from '../../src/retrieval/load-index.js';
import type { IndexSearchResult, ItemFilter, VectorIndex } from '../../src/retrieval/vector-index.js';

export interface ContractSubject {
  name: string;
  /** An index over `vectors` (count × dim). */
  build(vectors: Float32Array, count: number, dim: number): VectorIndex;
  /** The implementation's own loader. */
  load(file: string): VectorIndex;
  /**
   * Whether results must equal the brute-force top-k exactly; an approximate index must find at
   * least `minOverlap` of them in each search (default 0.8) and meet every other clause.
   */
  exact: boolean;
  minOverlap?: number;
}

export const DIM = 8;
export const COUNT = 300;

/** Low-rank vectors with skewed norms, like a factor model's. */
export function factorLike(count: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const rank = Math.max(1, dim >> 1);
  const basis = Float32Array.from({ length: rank * dim }, () => rng.normal());
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const scale = Math.exp(rng.normal());
    for (let r = 0; r < rank; r++) {
      const w = rng.normal() * scale;
      for (let f = 0; f < dim; f++) out[i * dim + f] += w * basis[r * dim + f];
    }
    for (let f = 0; f < dim; f++) out[i * dim + f] += 0.05 * rng.normal();
  }
  return out;
}

function dot(a: Float32Array, ao: number, b: Float32Array): number {
  let s = 0;
  for (let f = 0; f < b.length; f++) s += a[ao + f] * b[f];
  return s;
}

/** Brute-force top-k: higher score first, equal scores by lower index. */
export function bruteForce(
  vectors: Float32Array,
  count: number,
  query: Float32Array,
  k: number,
  filter?: ItemFilter,
): number[] {
  const dim = query.length;
  const scored: { i: number; s: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (filter && !filter(i)) continue;
    scored.push({ i, s: Math.fround(dot(vectors, i * dim, query)) });
  }
  scored.sort((a, b) => b.s - a.s || a.i - b.i);
  return scored.slice(0, k).map((x) => x.i);
}

/** A float32 score equal to `exact` up to float32 summation error. */
function expectScore(score: number, exact: number): void {
  expect(Math.abs(score - exact)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(exact)));
}

function expectBestFirst(r: IndexSearchResult): void {
  for (let p = 1; p < r.scores.length; p++) expect(r.scores[p]).toBeLessThanOrEqual(r.scores[p - 1]);
  expect(new Set(r.indices).size).toBe(r.indices.length);
}

export function vectorIndexContract(subject: ContractSubject): void {
  /** The search result against the brute-force reference, by the subject's standard. */
  const expectMatches = (got: Int32Array, want: number[]): void => {
    if (subject.exact) {
      expect(Array.from(got)).toEqual(want);
      return;
    }
    const found = want.filter((i) => got.includes(i)).length;
    expect(found / Math.max(1, want.length)).toBeGreaterThanOrEqual(subject.minOverlap ?? 0.8);
  };

  describe(`VectorIndex contract: ${subject.name}`, () => {
    const vectors = factorLike(COUNT, DIM, 1);
    const queries = Array.from({ length: 20 }, (_, q) => factorLike(1, DIM, 100 + q));
    const dir = mkdtempSync(path.join(tmpdir(), 'kindred-index-contract-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reports its dimension and size', () => {
      const index = subject.build(vectors, COUNT, DIM);
      expect(index.dim).toBe(DIM);
      expect(index.size).toBe(COUNT);
    });

    it('returns the k best items by inner product, best first, with their scores', () => {
      const index = subject.build(vectors, COUNT, DIM);
      for (const q of queries) {
        const r = index.search(q, 10);
        expect(r.indices).toBeInstanceOf(Int32Array);
        expect(r.scores).toBeInstanceOf(Float32Array);
        expect(r.indices.length).toBe(10);
        expectBestFirst(r);
        expectMatches(r.indices, bruteForce(vectors, COUNT, q, 10));
        for (let p = 0; p < 10; p++) expectScore(r.scores[p], dot(vectors, r.indices[p] * DIM, q));
      }
    });

    it('returns every item when k exceeds the size, and nothing for k = 0', () => {
      const index = subject.build(vectors.subarray(0, 12 * DIM), 12, DIM);
      const r = index.search(queries[0], 50);
      expect(r.indices.length).toBe(12);
      expectBestFirst(r);
      expect(index.search(queries[0], 0).indices.length).toBe(0);
    });

    it('searches an empty index', () => {
      const index = subject.build(new Float32Array(0), 0, DIM);
      expect(index.size).toBe(0);
      expect(index.search(queries[0], 5).indices.length).toBe(0);
    });

    it('returns only items the filter accepts, the best of them', () => {
      const index = subject.build(vectors, COUNT, DIM);
      const filters: ItemFilter[] = [(i) => i % 3 === 0, (i) => i >= 250, (i) => i === 7 || i === 123];
      for (const filter of filters) {
        for (const q of queries.slice(0, 5)) {
          const r = index.search(q, 10, filter);
          expectBestFirst(r);
          for (const i of r.indices) expect(filter(i)).toBe(true);
          expectMatches(r.indices, bruteForce(vectors, COUNT, q, 10, filter));
        }
      }
    });

    it('finds an added item in the next search', () => {
      const index = subject.build(vectors, COUNT, DIM);
      const q = queries[0];
      const big = q.map((x) => x * 100);
      const at = index.add(big);
      expect(at).toBe(COUNT);
      expect(index.size).toBe(COUNT + 1);
      const r = index.search(q, 5);
      expect(r.indices[0]).toBe(COUNT);
      expectScore(r.scores[0], dot(big, 0, q));
      expect(Array.from(index.vector(COUNT))).toEqual(Array.from(big));
    });

    it('keeps every added item searchable past its initial capacity', () => {
      const index = subject.build(vectors.subarray(0, 20 * DIM), 20, DIM);
      const extra = factorLike(200, DIM, 7);
      for (let i = 0; i < 200; i++) expect(index.add(extra.subarray(i * DIM, (i + 1) * DIM))).toBe(20 + i);
      expect(index.size).toBe(220);
      const all = new Float32Array(220 * DIM);
      all.set(vectors.subarray(0, 20 * DIM));
      all.set(extra, 20 * DIM);
      for (const q of queries.slice(0, 5)) {
        expectMatches(index.search(q, 10).indices, bruteForce(all, 220, q, 10));
      }
    });

    it('applies an update to the next search', () => {
      const index = subject.build(vectors, COUNT, DIM);
      const q = queries[1];
      const before = index.search(q, 3);
      const top = before.indices[0];
      // The former best item turns away from the query; item 42 points along it.
      index.update(
        top,
        q.map((x) => -x),
      );
      index.update(
        42,
        q.map((x) => x * 100),
      );
      const after = index.search(q, 3);
      expect(after.indices[0]).toBe(42);
      expect(Array.from(after.indices)).not.toContain(top);
      expect(index.size).toBe(COUNT);
      const expected = vectors.slice();
      expected.set(
        q.map((x) => -x),
        top * DIM,
      );
      expected.set(
        q.map((x) => x * 100),
        42 * DIM,
      );
      expectMatches(index.search(q, 10).indices, bruteForce(expected, COUNT, q, 10));
    });

    it('gives identical results after save and load', () => {
      const index = subject.build(vectors, COUNT, DIM);
      index.add(factorLike(1, DIM, 55));
      index.update(3, factorLike(1, DIM, 56));
      const file = path.join(dir, `${subject.name}.kdvi`);
      index.save(file);
      const loaded = subject.load(file);
      expect(loaded.kind).toBe(index.kind);
      expect(loaded.dim).toBe(DIM);
      expect(loaded.size).toBe(COUNT + 1);
      expect(Array.from(loaded.vector(3))).toEqual(Array.from(index.vector(3)));
      for (const q of queries) {
        const a = index.search(q, 10);
        const b = loaded.search(q, 10);
        expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
        expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
        const fa = index.search(q, 5, (i) => i % 2 === 1);
        const fb = loaded.search(q, 5, (i) => i % 2 === 1);
        expect(Array.from(fb.indices)).toEqual(Array.from(fa.indices));
      }
      // A loaded index keeps accepting items.
      expect(loaded.add(queries[0].map((x) => x * 100))).toBe(COUNT + 1);
      expect(loaded.search(queries[0], 1).indices[0]).toBe(COUNT + 1);
      // The kind-dispatching loader reads the same index.
      const any = loadVectorIndex(file);
      expect(any.kind).toBe(index.kind);
      expect(any.size).toBe(COUNT + 1);
      for (const q of queries) {
        expect(Array.from(any.search(q, 10).indices)).toEqual(Array.from(index.search(q, 10).indices));
      }
    });

    it('rejects vectors of the wrong dimension, naming the argument', () => {
      const index = subject.build(vectors, COUNT, DIM);
      const short = new Float32Array(DIM - 1);
      expect(() => index.search(short, 5)).toThrow(/query has 7 entries.*dimension 8/);
      expect(() => index.add(short)).toThrow(/vector has 7 entries/);
      expect(() => index.update(0, new Float32Array(DIM + 1))).toThrow(/vector has 9 entries/);
      expect(() => subject.build(vectors, COUNT + 1, DIM)).toThrow(
        /vectors has 2400 entries, expected 301 x 8/,
      );
      expect(index.size).toBe(COUNT);
    });

    it('rejects bad item indices, k and non-finite values, naming the argument', () => {
      const index = subject.build(vectors, COUNT, DIM);
      expect(() => index.update(COUNT, queries[0])).toThrow(/itemIndex 300/);
      expect(() => index.update(-1, queries[0])).toThrow(/itemIndex -1/);
      expect(() => index.vector(COUNT)).toThrow(/itemIndex/);
      expect(() => index.search(queries[0], -1)).toThrow(/k must be/);
      expect(() => index.search(queries[0], 2.5)).toThrow(/k must be/);
      const bad = queries[0].slice();
      bad[2] = NaN;
      expect(() => index.search(bad, 5)).toThrow(/query\[2\]/);
      expect(() => index.add(bad)).toThrow(/vector\[2\]/);
    });

    it('returns copies of item vectors', () => {
      const index = subject.build(vectors, COUNT, DIM);
      const v = index.vector(5);
      expect(Array.from(v)).toEqual(Array.from(vectors.subarray(5 * DIM, 6 * DIM)));
      v.fill(0);
      expect(Array.from(index.vector(5))).toEqual(Array.from(vectors.subarray(5 * DIM, 6 * DIM)));
    });
  });
}
