/**
 * A snapshot of the catalogue on typed arrays, indexed like the models' items: what filters,
 * rules, rankers and explanations read per candidate without touching the store.
 *
 * Price and stock come from the item attributes `price` and `stock` (numbers); an item without
 * them has NaN. Categories are a CSR list per item over a table of category names.
 */
import type { Item } from '../domain/types.js';

export interface Catalog {
  readonly size: number;
  readonly itemIds: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** 1 when the item exists in the store and is available. */
  readonly available: Uint8Array;
  /** Units in stock, NaN when the item does not say. */
  readonly stock: Float32Array;
  /** Price, NaN when the item does not say. */
  readonly price: Float32Array;
  /** publishedAt, or createdAt when unpublished (ms); NaN for items not in the store. */
  readonly publishedAt: Float64Array;
  /** Category names; item i has categoryIdx[categoryPtr[i] .. categoryPtr[i+1]). */
  readonly categories: readonly string[];
  readonly categoryIndex: ReadonlyMap<string, number>;
  readonly categoryPtr: Int32Array;
  readonly categoryIdx: Int32Array;
  /** The stored item (attributes for rules and audience filters), null for items not in the store. */
  item(index: number): Item | null;
  /**
   * Takes a changed item in place: availability, stock, price, publication time and attributes
   * (its categories keep their snapshot until the next rebuild).
   */
  update(index: number, item: Item): void;
}

function numberAttr(item: Item, key: string): number {
  const v = item.attributes[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/**
 * Builds a snapshot over `itemIds` (the models' item order) from the stored items; ids with no
 * stored item are unavailable.
 */
export function buildCatalog(itemIds: readonly string[], items: Iterable<Item>): Catalog {
  const n = itemIds.length;
  const indexOf = new Map<string, number>();
  itemIds.forEach((id, i) => indexOf.set(id, i));
  const stored = new Array<Item | null>(n).fill(null);
  for (const it of items) {
    const i = indexOf.get(it.id);
    if (i !== undefined) stored[i] = it;
  }
  const available = new Uint8Array(n);
  const stock = new Float32Array(n).fill(NaN);
  const price = new Float32Array(n).fill(NaN);
  const publishedAt = new Float64Array(n).fill(NaN);
  const categories: string[] = [];
  const categoryIndex = new Map<string, number>();
  const categoryPtr = new Int32Array(n + 1);
  const idx: number[] = [];
  const take = (i: number, it: Item): void => {
    stored[i] = it;
    available[i] = it.available ? 1 : 0;
    stock[i] = numberAttr(it, 'stock');
    price[i] = numberAttr(it, 'price');
    publishedAt[i] = it.publishedAt ?? it.createdAt;
  };
  for (let i = 0; i < n; i++) {
    const it = stored[i];
    if (it) {
      take(i, it);
      for (const c of it.categories) {
        let ci = categoryIndex.get(c);
        if (ci === undefined) {
          ci = categories.length;
          categories.push(c);
          categoryIndex.set(c, ci);
        }
        idx.push(ci);
      }
    }
    categoryPtr[i + 1] = idx.length;
  }
  return {
    size: n,
    itemIds,
    indexOf,
    available,
    stock,
    price,
    publishedAt,
    categories,
    categoryIndex,
    categoryPtr,
    categoryIdx: Int32Array.from(idx),
    item: (i) => stored[i] ?? null,
    update: take,
  };
}

/** Whether item i is in category c (index). */
export function inCategory(catalog: Catalog, item: number, category: number): boolean {
  for (let p = catalog.categoryPtr[item]; p < catalog.categoryPtr[item + 1]; p++)
    if (catalog.categoryIdx[p] === category) return true;
  return false;
}
