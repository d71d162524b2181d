import { describe, expect, it } from 'vitest';
import { sourceLimit, type PlacementSource } from '../../src/pipeline/pipeline.js';
import { ANN_LIMIT, ANN_MIN, ANN_PER_K, ANN_SIZING } from '../../src/pipeline/placements.js';
import type { CandidateSource } from '../../src/pipeline/types.js';

const source = { name: 'als' } as unknown as CandidateSource;

describe('candidates asked of a source per request', () => {
  const ann: PlacementSource = { source, ...ANN_SIZING };

  it('scale with the list served, between the minimum and the limit', () => {
    expect(sourceLimit(ann, 1)).toBe(ANN_MIN);
    expect(sourceLimit(ann, 10)).toBe(Math.max(ANN_MIN, ANN_PER_K * 10));
    expect(sourceLimit(ann, 15)).toBe(Math.min(ANN_LIMIT, Math.max(ANN_MIN, ANN_PER_K * 15)));
    expect(sourceLimit(ann, 1000)).toBe(ANN_LIMIT);
  });

  it('are the limit itself for a source without per-item sizing', () => {
    expect(sourceLimit({ limit: 300 }, 10)).toBe(300);
    expect(sourceLimit({ limit: 300 }, 1000)).toBe(300);
  });

  it('never exceed a small limit', () => {
    expect(sourceLimit({ limit: 5, perK: { perK: 3, min: 32 } }, 10)).toBe(5);
  });
});
