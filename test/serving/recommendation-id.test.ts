import { describe, expect, it } from 'vitest';
import { newRecommendationId } from '../../src/serving/recommendation-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('recommendation ids', () => {
  it('are RFC 9562 version 7 UUIDs carrying the serving time', () => {
    const now = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
    const id = newRecommendationId(now);
    expect(id).toMatch(UUID_V7);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBe(now);
  });

  it('sort by serving time, as strings', () => {
    const ids = [0, 1, 999, 1_000, 65_535, 65_536, 2 ** 32, Date.now(), 2 ** 47].map((t) =>
      newRecommendationId(t),
    );
    expect([...ids].sort()).toEqual(ids);
  });

  it('never repeat', () => {
    const now = Date.now();
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(newRecommendationId(now));
    expect(seen.size).toBe(100_000);
  });
});
