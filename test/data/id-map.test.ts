import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';

describe('IdMap', () => {
  it('assigns dense indices in insertion order and maps both ways', () => {
    const m = new IdMap(['b', 'a']);
    expect(m.getOrAdd('c')).toBe(2);
    expect(m.getOrAdd('a')).toBe(1);
    expect(m.size).toBe(3);
    expect(m.ids).toEqual(['b', 'a', 'c']);
    expect(m.index('c')).toBe(2);
    expect(m.id(0)).toBe('b');
    expect(m.has('a')).toBe(true);
  });

  it('returns -1 for unknown ids and rejects out-of-range indices', () => {
    const m = new IdMap();
    expect(m.index('x')).toBe(-1);
    expect(m.has('x')).toBe(false);
    expect(() => m.id(0)).toThrow(RangeError);
  });

  it('deduplicates ids given to the constructor', () => {
    expect(new IdMap(['a', 'a', 'b']).size).toBe(2);
  });
});
