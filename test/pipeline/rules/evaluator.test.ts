import { describe, expect, it } from 'vitest';
import { compileExpression, type ExprEnv, type ExprItem } from '../../../src/pipeline/rules/expr/index.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 15, 12);

const shoe: ExprItem = {
  id: 'shoe-1',
  title: 'Trail Running Shoe',
  categories: ['shoes', 'sports/running'],
  tags: ['outdoor', 'sale'],
  available: true,
  createdAt: NOW - 3 * DAY,
  attributes: { price: 45, brand: 'Kea', sizes: [40, 41, 42], launch: '2025-06-01', meta: { colour: 'red' } },
};

function env(
  item: ExprItem | null = shoe,
  user: ExprEnv['user'] = null,
  context: ExprEnv['context'] = null,
): ExprEnv {
  return {
    item,
    user: user ?? { id: 'u1', attributes: { country: 'DE', age: 34, favouriteBrand: 'Kea' } },
    context: context ?? { placement: 'home', attributes: { device: 'mobile' } },
    now: NOW,
  };
}

const test = (source: string, e: ExprEnv = env()): boolean => compileExpression(source).test(e);
const value = (source: string, e: ExprEnv = env()): unknown =>
  compileExpression(source, { condition: false }).evaluate(e);

describe('evaluator: hand cases', () => {
  it('reads built-in fields, attribute shorthands and nested attributes', () => {
    expect(test('item.category == "shoes" and item.price < 50')).toBe(true);
    expect(test('item.category == "shoes" and item.price < 40')).toBe(false);
    expect(value('item.brand')).toBe('Kea');
    expect(value('item.attributes.brand')).toBe('Kea');
    expect(value('item.meta.colour')).toBe('red');
    expect(value('item.sizes[1]')).toBe(41);
    expect(value('item.categories[1]')).toBe('sports/running');
    expect(value('user.country')).toBe('DE');
    expect(value('user.attributes.age')).toBe(34);
    expect(value('context.placement')).toBe('home');
    expect(value('context.device')).toBe('mobile');
    expect(value('context.now')).toBe(NOW);
  });

  it('uses attributes.category when the item has no categories', () => {
    expect(value('item.category', env({ attributes: { category: 'books' } }))).toBe('books');
    expect(value('item.category', env({ categories: [] }))).toBe(null);
  });

  it('computes arithmetic and functions', () => {
    expect(value('item.price * 2 + 1')).toBe(91);
    expect(value('item.price % 7')).toBe(3);
    expect(value('-item.price')).toBe(-45);
    expect(value('days(2)')).toBe(2 * DAY);
    expect(value('hours(1) + minutes(30)')).toBe(5_400_000);
    expect(value('lower(item.title)')).toBe('trail running shoe');
    expect(value('upper(item.brand)')).toBe('KEA');
    expect(value('len(item.tags)')).toBe(2);
    expect(value('len(item.title)')).toBe(18);
    expect(value('item.price / 0')).toBe(null);
  });

  it('handles in, not in, contains, startsWith and endsWith', () => {
    expect(test('user.country in ["DE", "AT"]')).toBe(true);
    expect(test('user.country in ["FR"]')).toBe(false);
    expect(test('user.country not in ["FR"]')).toBe(true);
    expect(test('item.tags contains "sale"')).toBe(true);
    expect(test('item.tags contains "adult"')).toBe(false);
    expect(test('"sale" in item.tags')).toBe(true);
    expect(test('item.sizes contains 42')).toBe(true);
    expect(test('item.sizes contains "42"')).toBe(false);
    expect(test('item.title contains "Running"')).toBe(true);
    expect(test('"Trail" in item.title')).toBe(true);
    expect(test('item.category startsWith "sho" and item.title endsWith "Shoe"')).toBe(true);
    expect(test('item.categories[1] startsWith "sports/"')).toBe(true);
    expect(test('user.country in [user.country, "AT"]')).toBe(true);
  });

  it('compares items with user attributes', () => {
    const home = 'context.placement == "home" and item.brand != user.attributes.favouriteBrand';
    expect(test(home)).toBe(false);
    expect(test(home, env({ ...shoe, attributes: { brand: 'Other' } }))).toBe(true);
  });

  it('handles dates as epoch milliseconds', () => {
    expect(test('item.createdAt > now - days(7)')).toBe(true);
    expect(test('item.createdAt > now - days(2)')).toBe(false);
    expect(
      test('date(item.launch) >= date("2025-06-01") and date(item.launch) < date("2025-06-02T00:00:00Z")'),
    ).toBe(true);
    expect(test('now >= date("2025-06-15T14:00:00+02:00")')).toBe(true);
    expect(value('date("2025-02-30")')).toBe(null);
  });

  it('compares strings by code unit and never mixes types', () => {
    expect(test('item.brand < "Zebra"')).toBe(true);
    expect(test('item.brand > 3')).toBe(false);
    expect(test('item.price == "45"')).toBe(false);
    expect(test('item.price != "45"')).toBe(true);
  });
});

describe('evaluator: missing values', () => {
  const bare = env({ id: 'x' }, { id: 'anon' }, { placement: 'home' });

  it('reads a missing attribute as null', () => {
    expect(value('item.price', bare)).toBe(null);
    expect(value('item.meta.colour', bare)).toBe(null);
    expect(value('item.sizes[5]')).toBe(null);
    expect(value('item.title', env(null))).toBe(null);
    expect(value('user.country', env(shoe, null, null))).toBe('DE'); // default user from helper
  });

  it('makes every comparison with null false, != included', () => {
    for (const source of [
      'item.price < 50',
      'item.price >= 50',
      'item.price == 45',
      'item.price != 45',
      'user.country in ["DE"]',
      'user.country not in ["DE"]',
      'item.tags contains "sale"',
      'item.title startsWith "T"',
      'item.brand != user.favouriteBrand',
    ]) {
      expect(test(source, bare), source).toBe(false);
    }
  });

  it('tests presence with == null, != null and exists()', () => {
    expect(test('item.price == null', bare)).toBe(true);
    expect(test('item.price != null', bare)).toBe(false);
    expect(test('null == item.price', bare)).toBe(true);
    expect(test('exists(item.price)', bare)).toBe(false);
    expect(test('exists(item.price)')).toBe(true);
    expect(test('item.price != null')).toBe(true);
  });

  it('counts a missing value as false in conditions, so not of it is true', () => {
    expect(test('item.onSale', bare)).toBe(false);
    expect(test('not item.onSale', bare)).toBe(true);
    expect(test('not (item.price < 50)', bare)).toBe(true);
    expect(test('not item.tags contains "adult" or user.age >= 18', bare)).toBe(true);
    expect(test('item.available', bare)).toBe(false);
  });

  it('propagates null through arithmetic and functions', () => {
    expect(value('item.price * 2', bare)).toBe(null);
    expect(value('lower(item.price)')).toBe(null);
    expect(value('len(item.price)')).toBe(null);
    expect(value('days(item.brand)')).toBe(null);
  });

  it('never reads inherited properties', () => {
    expect(value('item.attributes.constructor')).toBe(null);
    expect(() => value('item.attributes["__proto__"].x')).toThrow(/'__proto__' is not a field name/);
    expect(value('item.attributes.valueOf')).toBe(null);
    expect(value('item.toString')).toBe(null);
    expect(value('item.sizes["length"]')).toBe(null);
    expect(test('exists(user.hasOwnProperty)')).toBe(false);
  });
});

describe('evaluator: compilation', () => {
  it('folds constant parts and reports the names used', () => {
    const c = compileExpression('1 + 1 == 2 and "a" in ["a"]');
    expect(c.constant).toBe(true);
    expect(c.test(env())).toBe(true);
    const w = compileExpression('user.country == "DE" and now > 0');
    expect([...w.roots].sort()).toEqual(['now', 'user']);
    expect(w.constant).toBe(false);
  });

  it('gives the same answers when one environment object is reused across items', () => {
    const c = compileExpression('item.price < 50 and item.tags contains "sale"');
    const e = env();
    const items: ExprItem[] = [
      { attributes: { price: 10 }, tags: ['sale'] },
      { attributes: { price: 60 }, tags: ['sale'] },
      { attributes: { price: 10 }, tags: [] },
      { attributes: { price: 49.99 }, tags: ['x', 'sale'] },
    ];
    const got = items.map((it) => {
      e.item = it;
      return c.test(e);
    });
    expect(got).toEqual([true, false, false, true]);
  });
});
