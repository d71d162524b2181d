/**
 * What the feature computations need to know about items: dense index, categories, current
 * numeric price and publication time. Loaded from the store's catalog; items first seen in events
 * are added with no categories, price or publication time.
 */
import type { Item } from '../domain/types.js';
import { IdMap } from '../data/id-map.js';
import type { Store } from '../store/store.js';

export interface CatalogItem {
  id: string;
  categories?: readonly string[];
  /** Numeric price; null or undefined: none. */
  price?: number | null;
  publishedAt?: number | null;
}

/** Numeric `attributes.price` of an item, or NaN. */
export function itemPrice(item: Pick<Item, 'attributes'>): number {
  const p = item.attributes.price;
  return typeof p === 'number' && Number.isFinite(p) ? p : NaN;
}

export class FeatureCatalog {
  readonly items = new IdMap();
  readonly categories = new IdMap();
  /** By item index; NaN: no price. */
  readonly price: number[] = [];
  /** By item index; NaN: not published. */
  readonly publishedAt: number[] = [];
  /** Category indices by item index. */
  readonly itemCategories: number[][] = [];

  /** Index of the item, adding it (without metadata) when new. */
  indexOrAdd(id: string): number {
    const i = this.items.getOrAdd(id);
    while (this.price.length <= i) {
      this.price.push(NaN);
      this.publishedAt.push(NaN);
      this.itemCategories.push([]);
    }
    return i;
  }

  /** Adds or replaces an item's metadata; returns its index. */
  setItem(item: CatalogItem): number {
    const i = this.indexOrAdd(item.id);
    this.price[i] = typeof item.price === 'number' && Number.isFinite(item.price) ? item.price : NaN;
    this.publishedAt[i] = typeof item.publishedAt === 'number' ? item.publishedAt : NaN;
    this.itemCategories[i] = (item.categories ?? []).map((c) => this.categories.getOrAdd(c));
    return i;
  }

  hasCategory(itemIndex: number, categoryIndex: number): boolean {
    const cats = this.itemCategories[itemIndex];
    return cats !== undefined && cats.includes(categoryIndex);
  }

  /** Every item of the store, page by page. */
  static async load(store: Store): Promise<FeatureCatalog> {
    const catalog = new FeatureCatalog();
    let cursor: string | null = null;
    do {
      const page = await store.listItems({ limit: 1000, cursor });
      for (const it of page.rows) {
        catalog.setItem({
          id: it.id,
          categories: it.categories,
          price: itemPrice(it),
          publishedAt: it.publishedAt,
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
    return catalog;
  }
}
