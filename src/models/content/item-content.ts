/**
 * Item content for the content model, aligned with the item indices of training data.
 *
 * InteractionData carries no item metadata, so the content of each item travels beside it:
 * `attachItemContent(data, items)` records it for `data` (held weakly, released with the data),
 * and the content model's registry family reads it back with `attachedItemContent`.
 * `loadItemContent` reads it from a store.
 */
import type { IdMap } from '../../data/id-map.js';
import type { InteractionData } from '../../data/interactions.js';
import type { Store } from '../../store/store.js';
import type { ItemContent } from './vectorize.js';

const attached = new WeakMap<InteractionData, readonly ItemContent[]>();

/** Records the content of every item of `data` (`items[i]` describes item index i). */
export function attachItemContent(data: InteractionData, items: readonly ItemContent[]): void {
  if (items.length !== data.items.size) {
    throw new RangeError(`${items.length} item descriptions for ${data.items.size} items`);
  }
  attached.set(data, items);
}

/** The content attached to `data`, or undefined. */
export function attachedItemContent(data: InteractionData): readonly ItemContent[] | undefined {
  return attached.get(data);
}

/** The stored content of each item of `items`, by index (an item missing from the store gets none). */
export async function loadItemContent(store: Store, items: IdMap): Promise<ItemContent[]> {
  const out: ItemContent[] = Array.from({ length: items.size }, () => ({}));
  let cursor: string | null = null;
  do {
    const page = await store.listItems({ limit: 1000, cursor });
    for (const it of page.rows) {
      const i = items.index(it.id);
      if (i < 0) continue;
      out[i] = {
        title: it.title,
        text: it.text,
        tags: it.tags,
        categories: it.categories,
        attributes: it.attributes,
        publishedAt: it.publishedAt,
      };
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
