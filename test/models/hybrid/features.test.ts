import { describe, expect, it } from 'vitest';
import {
  buildFeatures,
  featureCount,
  identityFeatures,
  metadataRow,
} from '../../../src/models/hybrid/features.js';
import { featureBias, representation } from '../../../src/models/hybrid/hybrid-factors.js';

const LABELS = [['genre:x', 'genre:y'], ['genre:y'], []];

describe('hybrid feature matrices', () => {
  it('gives each row its identity and its labels, weights summing to one', () => {
    const m = buildFeatures(3, (r) => LABELS[r]);
    expect(m.identities).toBe(3);
    expect(m.vocabulary).toEqual(['genre:x', 'genre:y']);
    expect(featureCount(m)).toBe(5);
    // row 0: identity 0.5, x 0.25, y 0.25; row 1: identity 0.5, y 0.5; row 2: identity 1
    expect(Array.from(m.indptr)).toEqual([0, 3, 5, 6]);
    expect(Array.from(m.indices)).toEqual([0, 3, 4, 1, 4, 2]);
    expect(Array.from(m.weights)).toEqual([0.5, 0.25, 0.25, 0.5, 0.5, 1]);
  });

  it('sums feature embeddings into a row representation (hand-computed)', () => {
    const m = buildFeatures(3, (r) => LABELS[r]);
    // 2 factors; embeddings of features id0, id1, id2, x, y
    const E = Float32Array.from([1, 0, 0, 2, 4, 4, 8, 0, 0, 16]);
    const out = new Float32Array(2);
    representation(m, 0, E, 2, out);
    expect(Array.from(out)).toEqual([0.5 * 1 + 0.25 * 8, 0.25 * 16]);
    representation(m, 1, E, 2, out);
    expect(Array.from(out)).toEqual([0, 0.5 * 2 + 0.5 * 16]);
    const bias = Float32Array.from([1, 2, 3, 4, 8]);
    expect(featureBias(m, 0, bias)).toBe(0.5 + 1 + 2);
  });

  it('describes a new row by its known labels only', () => {
    const m = buildFeatures(3, (r) => LABELS[r]);
    const row = metadataRow(m, ['genre:y', 'genre:unknown', 'genre:y']);
    expect(Array.from(row.indices)).toEqual([4]);
    expect(Array.from(row.weights)).toEqual([1]);
    expect(identityFeatures(4).vocabulary).toEqual([]);
  });
});
