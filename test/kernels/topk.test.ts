import { describe, expect, it } from 'vitest';
import { TopKHeap, topK, topKOfCandidates } from '../../src/kernels/topk.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
}

/** Sort-based reference: score desc, index asc, skipping masked, -Infinity and NaN. */
function reference(scores: Float32Array, k: number, mask?: Uint8Array): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (mask && mask[i]) continue;
    if (!(scores[i] > -Infinity)) continue;
    idx.push(i);
  }
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.slice(0, Math.max(0, k));
}

describe('topK', () => {
  it('matches a sort-based reference on random arrays with ties, masks and -Infinity', () => {
    const rnd = rng(42);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 300);
      const scores = new Float32Array(n);
      const levels = 1 + Math.floor(rnd() * 20); // few levels: many ties
      for (let i = 0; i < n; i++) {
        const r = rnd();
        scores[i] = r < 0.1 ? -Infinity : r < 0.12 ? NaN : Math.floor(rnd() * levels) - levels / 2;
      }
      const mask = trial % 2 === 0 ? Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0)) : undefined;
      const k = Math.floor(rnd() * (n + 5));
      const got = topK(scores, k, mask);
      const want = reference(scores, k, mask);
      expect(Array.from(got.indices)).toEqual(want);
      expect(Array.from(got.scores)).toEqual(want.map((i) => scores[i]));
    }
  });

  it('breaks ties by the lower index', () => {
    const got = topK(Float32Array.from([1, 3, 3, 2, 3]), 2);
    expect(Array.from(got.indices)).toEqual([1, 2]);
  });

  it('never returns -Infinity and returns fewer than k when not enough items are scorable', () => {
    const got = topK(Float32Array.from([-Infinity, 0.5, -Infinity, -1e30]), 10);
    expect(Array.from(got.indices)).toEqual([1, 3]);
  });

  it('handles k = 0, empty input and a fully masked array', () => {
    expect(topK(Float32Array.from([1, 2]), 0).indices.length).toBe(0);
    expect(topK(new Float32Array(0), 5).indices.length).toBe(0);
    expect(topK(Float32Array.from([1, 2]), 2, Uint8Array.from([1, 1])).indices.length).toBe(0);
  });

  it('rejects a mask shorter than the scores', () => {
    expect(() => topK(Float32Array.from([1, 2]), 1, new Uint8Array(1))).toThrow(RangeError);
  });

  it('returns fresh arrays that later calls do not overwrite', () => {
    const a = topK(Float32Array.from([5, 4, 3]), 2);
    topK(Float32Array.from([1, 9, 8]), 2);
    expect(Array.from(a.indices)).toEqual([0, 1]);
  });
});

describe('topKOfCandidates and TopKHeap', () => {
  it('selects among candidates in any order with the same tie rule', () => {
    const scores = Float64Array.from([0.5, 0.9, 0.9, 0.1, 0.9]);
    const got = topKOfCandidates(scores, Int32Array.from([4, 3, 2, 0, 1]), 5, 3);
    expect(Array.from(got.indices)).toEqual([1, 2, 4]);
  });

  it('is reusable across resets and grows when k exceeds its capacity', () => {
    const heap = new TopKHeap(2);
    heap.reset(5);
    for (let i = 0; i < 10; i++) heap.push(i, i % 4);
    const idx = new Int32Array(5);
    const sc = new Float32Array(5);
    expect(heap.drainInto(idx, sc)).toBe(5);
    expect(Array.from(idx)).toEqual([3, 7, 2, 6, 1]);
    expect(heap.size).toBe(0);
    heap.reset(1);
    heap.push(4, 1);
    heap.push(2, 1);
    expect(heap.drainInto(idx, sc, 2)).toBe(1);
    expect(idx[2]).toBe(2);
  });
});
