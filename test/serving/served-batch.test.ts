import { describe, expect, it } from 'vitest';
import type { ServedRecommendation } from '../../src/serving/recommendation-log.js';
import { ServedBatchBuilder, decodeServedBatch } from '../../src/serving/served-batch.js';

function list(
  id: string,
  items: string[],
  features: ServedRecommendation['features'] = null,
): ServedRecommendation {
  return {
    id,
    userId: `user of ${id}`,
    placement: 'home',
    servedAt: 1_790_000_000_123,
    items,
    scores: items.map((_, i) => (i % 2 === 0 ? 1 / (i + 3) : -i * 0.25)),
    features,
  };
}

describe('served lists encoded as one batch', () => {
  it('decodes every list exactly as it was added, in order, whatever the characters', () => {
    const lists = [
      list('r-1', ['a', 'é-2', '商品-3', '👍🏽']),
      list('', []),
      list('r-3', ['x', 'y', 'z'], {
        names: ['score:als', 'ĉ'],
        rows: Float32Array.from([1.5, -2, 0, 3e-8, 7, Math.PI]),
      }),
      list('r-4', ['only'], { names: [], rows: new Float32Array(0) }),
    ];
    const builder = new ServedBatchBuilder();
    for (const l of lists) builder.add(l);
    expect(builder.count).toBe(4);
    const back = decodeServedBatch(builder.take());
    expect(back).toEqual(
      lists.map((l) => ({
        ...l,
        features: l.features && { ...l.features, rows: Float32Array.from(l.features.rows) },
      })),
    );
    expect(back[2].features?.rows[5]).toBe(Math.fround(Math.PI));
  });

  it('grows past its first buffer without losing a byte', () => {
    const builder = new ServedBatchBuilder();
    const names = Array.from({ length: 20 }, (_, f) => `feature-${f}`);
    const lists = Array.from({ length: 150 }, (_, n) => {
      const items = Array.from({ length: 40 }, (_, i) => `item-${n}-${i}`);
      return list(`r${n}`, items, {
        names,
        rows: Float32Array.from({ length: 800 }, (_, v) => n + v / 1000),
      });
    });
    for (const l of lists) builder.add(l);
    const bytes = builder.take();
    expect(bytes.byteLength).toBeGreaterThan(150 * 800 * 4);
    const back = decodeServedBatch(bytes);
    expect(back.map((l) => l.id)).toEqual(lists.map((l) => l.id));
    expect(back[149].items[39]).toBe('item-149-39');
    expect(Array.from(back[149].features?.rows ?? [])).toEqual(Array.from(lists[149].features?.rows ?? []));
  });

  it('copies what it is given: later changes by the caller do not reach the batch', () => {
    const builder = new ServedBatchBuilder();
    const l = list('r1', ['a', 'b'], { names: ['f'], rows: Float32Array.from([1, 2]) });
    builder.add(l);
    l.items.push('c');
    l.scores[0] = 99;
    l.features?.rows.fill(-1);
    expect(builder.find('r1')).toMatchObject({ items: ['a', 'b'], scores: [1 / 3, -0.25] });
    expect(Array.from(builder.find('r1')?.features?.rows ?? [])).toEqual([1, 2]);
  });

  it('finds the last list recorded under an id, and none once the batch was taken', () => {
    const builder = new ServedBatchBuilder();
    builder.add(list('r1', ['first']));
    builder.add(list('r2', ['other']));
    builder.add(list('r1', ['second']));
    expect(builder.find('r1')?.items).toEqual(['second']);
    expect(builder.find('r9')).toBeNull();
    const taken = builder.take();
    expect(builder.count).toBe(0);
    expect(builder.find('r1')).toBeNull();
    builder.add(list('r3', ['next']));
    // What was taken is not touched by what is added afterwards.
    expect(decodeServedBatch(taken).map((l) => l.items[0])).toEqual(['first', 'other', 'second']);
    expect(decodeServedBatch(builder.take()).map((l) => l.id)).toEqual(['r3']);
  });

  it('refuses a batch cut short', () => {
    const builder = new ServedBatchBuilder();
    builder.add(list('r1', ['a', 'b', 'c']));
    const bytes = builder.take();
    expect(() => decodeServedBatch(bytes.subarray(0, bytes.length - 5))).toThrow();
  });
});
