import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES } from '../../src/domain/types.js';
import {
  eventTypeMap,
  validateEventRows,
  validateItemRows,
  validateUserRows,
  type RowError,
} from '../../src/ingest/rows.js';

const TYPES = eventTypeMap(DEFAULT_EVENT_TYPES);
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

function fields(errors: RowError[]): string[] {
  return errors.map((e) => `${e.index}:${e.field}`);
}

describe('validateUserRows', () => {
  it('keeps good rows and names the bad field of the others', () => {
    const result = validateUserRows([
      { id: 'u1' },
      { id: '', attributes: {} },
      { id: 'u3', attributes: { age: 31, tags: ['a'] } },
      { id: 'u4', attributes: [1, 2] },
      'u5',
      { id: 'u6', name: 'Ann' },
      {},
      { id: 'x'.repeat(257) },
    ]);
    expect(result.valid).toEqual([{ id: 'u1' }, { id: 'u3', attributes: { age: 31, tags: ['a'] } }]);
    expect(result.validIndex).toEqual([0, 2]);
    expect(fields(result.errors)).toEqual(['1:id', '3:attributes', '4:(row)', '5:name', '6:id', '7:id']);
    expect(result.errors[0].message).toBe('must be a string of 1 to 256 characters');
    expect(result.errors[1].message).toBe('must be an object');
    expect(result.errors[2].message).toBe('must be an object');
    expect(result.errors[3].message).toBe('is not a known field (allowed: id, attributes)');
    expect(result.errors[4].message).toBe('is required');
  });
});

describe('validateItemRows', () => {
  it('converts a full row and leaves absent fields absent', () => {
    const result = validateItemRows([
      {
        id: 'i1',
        title: 'Merino Socks',
        text: null,
        categories: ['sports/running'],
        tags: ['wool'],
        attributes: { price: 12.5 },
        available: false,
        publishedAt: '2024-01-02T03:04:05Z',
      },
      { id: 'i2' },
      { id: 'i3', publishedAt: 1_700_000_000_000 },
      { id: 'i4', publishedAt: null },
      { id: 'i5', publishedAt: '1922-02-01' },
    ]);
    expect(result.errors).toEqual([]);
    expect(result.valid).toEqual([
      {
        id: 'i1',
        title: 'Merino Socks',
        text: null,
        categories: ['sports/running'],
        tags: ['wool'],
        attributes: { price: 12.5 },
        available: false,
        publishedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
      },
      { id: 'i2' },
      { id: 'i3', publishedAt: 1_700_000_000_000 },
      { id: 'i4', publishedAt: null },
      { id: 'i5', publishedAt: Date.UTC(1922, 1, 1) },
    ]);
  });

  it('names every bad field', () => {
    const result = validateItemRows([
      { id: 'a', title: 5 },
      { id: 'b', categories: 'sports' },
      { id: 'c', categories: ['ok', '', 'fine'] },
      { id: 'd', available: 'yes' },
      { id: 'e', publishedAt: 'yesterday' },
      { id: 'f', publishedAt: 1e20 },
      { id: 'g', tags: ['t'], colour: 'red' },
      { id: 'h', title: 5, available: 1 },
    ]);
    expect(result.valid).toEqual([]);
    expect(fields(result.errors)).toEqual([
      '0:title',
      '1:categories',
      '2:categories/1',
      '3:available',
      '4:publishedAt',
      '5:publishedAt',
      '6:colour',
      '7:title',
      '7:available',
    ]);
    expect(result.errors[0].message).toBe('must be a string or null');
    expect(result.errors[1].message).toBe('must be an array of strings of 1 to 256 characters');
    expect(result.errors[2].message).toBe('must be a string of 1 to 256 characters');
    expect(result.errors[4].message).toMatch(/^must be an ISO 8601 date-time or epoch milliseconds/);
  });
});

describe('validateEventRows', () => {
  it('converts timestamps in every accepted form and fills defaults', () => {
    const result = validateEventRows(
      [
        { userId: 'u1', itemId: 'i1', type: 'view' },
        { userId: 'u1', itemId: 'i2', type: 'rating', value: 4.5, timestamp: 1_700_000_000_000 },
        {
          userId: 'u1',
          itemId: 'i3',
          type: 'purchase',
          timestamp: '2024-05-06T07:08:09.010Z',
          sessionId: 's1',
        },
        {
          userId: 'u2',
          itemId: 'i1',
          type: 'click',
          timestamp: '2024-05-06',
          context: { placement: 'home' },
          clientEventId: 'c-1',
        },
        {
          userId: 'u2',
          itemId: 'i1',
          type: 'click',
          value: null,
          sessionId: null,
          context: null,
          clientEventId: null,
        },
      ],
      TYPES,
      NOW,
    );
    expect(result.errors).toEqual([]);
    expect(result.validIndex).toEqual([0, 1, 2, 3, 4]);
    expect(result.valid.map((e) => e.timestamp)).toEqual([
      NOW,
      1_700_000_000_000,
      Date.UTC(2024, 4, 6, 7, 8, 9, 10),
      Date.UTC(2024, 4, 6),
      NOW,
    ]);
    expect(result.valid[0]).toEqual({
      userId: 'u1',
      itemId: 'i1',
      type: 'view',
      value: null,
      timestamp: NOW,
      sessionId: null,
      context: null,
      clientEventId: null,
    });
    expect(result.valid[1].value).toBe(4.5);
    expect(result.valid[2].sessionId).toBe('s1');
    expect(result.valid[3]).toMatchObject({ context: { placement: 'home' }, clientEventId: 'c-1' });
  });

  it('reports each bad field by name and keeps the good rows', () => {
    const rows: unknown[] = [
      { userId: 'u1', itemId: 'i1', type: 'view' },
      { userId: 'u1', itemId: 'i1', type: 'view', timestamp: 'last tuesday' },
      { userId: 'u1', itemId: 'i1', type: 'view', timestamp: -5 },
      { userId: 'u1', itemId: 'i1', type: 'view', timestamp: '1969-07-20T20:17:00Z' },
      { userId: 'u1', itemId: 'i1', type: 'rating', value: '5' },
      { userId: 'u1', itemId: 'i1', type: 'rating', value: Number.NaN },
      { userId: 'u1', itemId: 'i1', type: 'rating', value: Number.POSITIVE_INFINITY },
      { userId: 42, itemId: 'i1', type: 'view' },
      { userId: 'u1', type: 'view' },
      { userId: 'u1', itemId: 'i1', type: 'view', context: 'home' },
      { userId: 'u1', itemId: 'i1', type: 'view', clientEventId: '' },
      { userId: 'u1', itemId: 'i1', type: 'view', extra: true },
      null,
      [],
      { userId: 'u1', itemId: 'i9', type: 'view' },
    ];
    const result = validateEventRows(rows, TYPES, NOW);
    expect(result.validIndex).toEqual([0, 14]);
    expect(fields(result.errors)).toEqual([
      '1:timestamp',
      '2:timestamp',
      '3:timestamp',
      '4:value',
      '5:value',
      '6:value',
      '7:userId',
      '8:itemId',
      '9:context',
      '10:clientEventId',
      '11:extra',
      '12:(row)',
      '13:(row)',
    ]);
    const byIndex = new Map(result.errors.map((e) => [e.index, e.message]));
    expect(byIndex.get(1)).toBe(
      'must be an ISO 8601 date-time or epoch milliseconds, between the years 1970 and 2200',
    );
    expect(byIndex.get(2)).toBe(byIndex.get(1));
    expect(byIndex.get(4)).toBe('must be a finite number or null');
    expect(byIndex.get(8)).toBe('is required');
    expect(byIndex.get(9)).toBe('must be an object or null');
  });

  it('rejects an unknown type and lists the configured ones', () => {
    const types = eventTypeMap(DEFAULT_EVENT_TYPES.filter((t) => ['view', 'purchase'].includes(t.name)));
    const result = validateEventRows(
      [
        { userId: 'u1', itemId: 'i1', type: 'wishlist' },
        { userId: 'u1', itemId: 'i1', type: 'purchase' },
        { userId: 'u1', itemId: 'i1', type: 'wishlist', timestamp: 'never' },
      ],
      types,
      NOW,
    );
    expect(result.validIndex).toEqual([1]);
    expect(result.errors).toEqual([
      {
        index: 0,
        field: 'type',
        message: "unknown event type 'wishlist' (configured types: purchase, view)",
      },
      {
        index: 2,
        field: 'timestamp',
        message: 'must be an ISO 8601 date-time or epoch milliseconds, between the years 1970 and 2200',
      },
      {
        index: 2,
        field: 'type',
        message: "unknown event type 'wishlist' (configured types: purchase, view)",
      },
    ]);
  });

  it('validates 1,000 rows in well under 10 ms', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      userId: `u${i % 97}`,
      itemId: `i${i % 301}`,
      type: i % 3 === 0 ? 'purchase' : 'view',
      value: i % 5 === 0 ? 4 : null,
      timestamp: i % 2 === 0 ? 1_700_000_000_000 + i : '2024-05-06T07:08:09Z',
      sessionId: `s${i % 13}`,
    }));
    validateEventRows(rows, TYPES, NOW);
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t0 = performance.now();
      const result = validateEventRows(rows, TYPES, NOW);
      best = Math.min(best, performance.now() - t0);
      expect(result.valid.length).toBe(1000);
    }
    expect(best).toBeLessThan(10);
  });
});
