import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES, type EventType, type Item } from '../../../src/domain/types.js';
import { buildCatalog } from '../../../src/pipeline/catalog.js';
import { catalogNames } from '../../../src/pipeline/explain.js';
import { requestContext } from '../../../src/pipeline/request-context.js';
import {
  CategoryInterestSource,
  interestsOf,
} from '../../../src/pipeline/sources/category-interest-source.js';

const NOW = Date.UTC(2026, 0, 15);
const types = new Map<string, EventType>(DEFAULT_EVENT_TYPES.map((t) => [t.name, t]));

function item(id: string, category: string, available = true): Item {
  return {
    id,
    title: id,
    text: null,
    categories: [category],
    tags: [],
    attributes: {},
    available,
    publishedAt: null,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

const ITEMS = [
  item('b1', 'books'),
  item('b2', 'books'),
  item('b3', 'books', false),
  item('g1', 'games'),
  item('g2', 'games'),
  item('t1', 'toys'),
];
const ids = ITEMS.map((i) => i.id);
const catalog = buildCatalog(ids, ITEMS);
// Popularity: b2 > b1 > b3, g1 > g2.
const popularity = Float32Array.from([5, 9, 20, 3, 1, 50]);

describe('CategoryInterestSource', () => {
  const source = new CategoryInterestSource(catalog, popularity);
  const ctx = (interests: unknown) =>
    requestContext(catalog, [], types, {
      userId: 'u',
      placement: 'home',
      k: 10,
      user: { interests },
      now: NOW,
    });

  it('proposes popular available items of the chosen categories, taking turns', () => {
    const got: [string, number][] = [];
    source.generate(ctx(['games', 'books', 'unknown']), 10, (i, s) => got.push([ids[i], s]));
    expect(got).toEqual([
      ['g1', 1],
      ['b2', 1 / 2],
      ['g2', 1 / 3],
      ['b1', 1 / 4],
    ]);
    expect(source.generate(ctx(['games', 'books']), 3, () => undefined)).toBe(3);
    expect(source.generate(ctx(undefined), 10, () => undefined)).toBe(0);
  });

  it('explains with the interest behind the item', () => {
    const e = source.explain(ctx('books'), catalog.indexOf.get('b1')!, catalogNames(catalog));
    expect(e).toEqual({ kind: 'interest', text: "Because you're interested in books", category: 'books' });
    expect(source.explain(ctx('books'), catalog.indexOf.get('t1')!, catalogNames(catalog))).toBeNull();
  });

  it('reads a single name or a list', () => {
    expect(interestsOf('books')).toEqual(['books']);
    expect(interestsOf(['a', 3, '', 'b'])).toEqual(['a', 'b']);
    expect(interestsOf(null)).toEqual([]);
  });
});
