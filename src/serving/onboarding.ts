/**
 * Onboarding of new users: offers categories and popular representative items to pick from, and
 * stores the picks so they count at once. Picked items become events of the `onboarding` type
 * (created on first use); picked categories become the user attribute `interests`. The pipeline
 * reads the user's live history and attributes on every request, so the very next
 * recommendation already builds on the picks.
 */
import type { EngineChange } from './cluster/changes.js';
import { ValidationError, type FieldError } from '../domain/errors.js';
import type { EventInput, EventType, Item, JsonObject } from '../domain/types.js';
import type { Recommender } from '../models/model.js';
import { interestsOf } from '../pipeline/sources/category-interest-source.js';
import type { Store } from '../store/store.js';

/** The event type of onboarding picks: an explicit statement of taste, weighted like a like. */
export const ONBOARDING_EVENT_TYPE: EventType = {
  name: 'onboarding',
  weight: 3,
  valueMode: 'ignore',
  description: 'The user picked the item during onboarding',
};

/** The user attribute that holds the picked categories. */
export const INTERESTS_ATTRIBUTE = 'interests';

/** Most categories and items one onboarding call may pick. */
export const MAX_PICKED_CATEGORIES = 50;
export const MAX_PICKED_ITEMS = 100;

/** What the onboarding service needs of the engine (the running `Engine` fits). */
export interface OnboardingEngine {
  readonly store: Store;
  readonly service: {
    /** Re-reads the event types the serving path weighs events with. */
    refreshEventTypes(): Promise<void>;
    loadedModels(): readonly Recommender[];
  };
  /** Tells the other serving processes, if any, about a change made here. */
  announce?(change: EngineChange): Promise<void>;
}

export interface OnboardingChoices {
  /** Categories, most popular first, with how many available items each has. */
  categories: { name: string; items: number }[];
  /** Popular items, taken in turn from the categories so every popular category shows. */
  items: { itemId: string; title: string | null; category: string | null }[];
}

export interface OnboardingPicks {
  categories?: readonly string[];
  items?: readonly string[];
}

export interface OnboardingResult {
  userId: string;
  /** The user's `interests` after the call (unchanged when no categories were sent). */
  interests: string[];
  /** The picked items stored as events, in the order sent. */
  items: string[];
  eventType: string;
  /** Events written, and picks skipped because the same item was picked before. */
  events: number;
  duplicates: number;
}

interface ItemIndex {
  model: Recommender | null;
  itemCount: number;
  /** Categories, most popular first, each with its available items, most popular first. */
  categories: { name: string; popularity: number; items: Item[] }[];
}

const EMPTY_HISTORY = { userIndex: -1, history: new Int32Array(0), historyWeights: new Float32Array(0) };

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export class OnboardingService {
  private readonly clock: () => number;
  private readonly eventType: EventType;
  private index: ItemIndex | null = null;

  constructor(
    private readonly engine: OnboardingEngine,
    options: { clock?: () => number; eventType?: EventType } = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.eventType = options.eventType ?? ONBOARDING_EVENT_TYPE;
  }

  /**
   * Up to `k` popular items to pick from, diverse across categories (the most popular item of
   * each category in turn, categories by popularity), leaving out what the user already has.
   */
  async options(userId: string, k: number, maxCategories = 30): Promise<OnboardingChoices> {
    const index = await this.itemIndex();
    const had = new Set((await this.engine.store.userHistory(userId, { limit: 1000 })).map((h) => h.itemId));
    const categories = index.categories.slice(0, maxCategories);
    const items: OnboardingChoices['items'] = [];
    const taken = new Set<string>();
    const cursor = new Array<number>(categories.length).fill(0);
    for (let more = true; more && items.length < k;) {
      more = false;
      for (let c = 0; c < categories.length && items.length < k; c++) {
        const list = categories[c].items;
        while (cursor[c] < list.length && (taken.has(list[cursor[c]].id) || had.has(list[cursor[c]].id)))
          cursor[c]++;
        if (cursor[c] >= list.length) continue;
        const it = list[cursor[c]++];
        taken.add(it.id);
        items.push({ itemId: it.id, title: it.title, category: categories[c].name });
        more = true;
      }
    }
    return {
      categories: categories.map((c) => ({ name: c.name, items: c.items.length })),
      items,
    };
  }

  /**
   * Stores the picks: `categories` replace the user's `interests`, `items` become onboarding
   * events. Throws `ValidationError` naming the field when nothing is picked or an item or
   * category is unknown (nothing is stored then).
   */
  async submit(userId: string, picks: OnboardingPicks): Promise<OnboardingResult> {
    const store = this.engine.store;
    const categories = unique(picks.categories ?? []);
    const itemIds = unique(picks.items ?? []);
    const errors: FieldError[] = [];
    if (picks.categories === undefined && picks.items === undefined)
      errors.push({ field: 'body', message: 'needs categories, items or both' });
    if (categories.length > MAX_PICKED_CATEGORIES)
      errors.push({ field: 'categories', message: `must hold at most ${MAX_PICKED_CATEGORIES} categories` });
    if (itemIds.length > MAX_PICKED_ITEMS)
      errors.push({ field: 'items', message: `must hold at most ${MAX_PICKED_ITEMS} items` });
    if (errors.length > 0) throw new ValidationError(`${errors[0].field} ${errors[0].message}`, errors);

    const unknownItems: string[] = [];
    for (const id of itemIds) if ((await store.getItem(id)) === null) unknownItems.push(id);
    const unknownCategories: string[] = [];
    for (const name of categories)
      if ((await store.listItems({ category: name, limit: 1 })).rows.length === 0)
        unknownCategories.push(name);
    const sent = (list: readonly string[] | undefined, id: string): number => list?.indexOf(id) ?? -1;
    for (const id of unknownItems)
      errors.push({ field: `items/${sent(picks.items, id)}`, message: `unknown item '${id}'` });
    for (const name of unknownCategories)
      errors.push({
        field: `categories/${sent(picks.categories, name)}`,
        message: `unknown category '${name}'`,
      });
    if (errors.length > 0) {
      const message =
        unknownItems.length > 0
          ? `items: unknown item ids: ${unknownItems.join(', ')}`
          : `categories: unknown categories: ${unknownCategories.join(', ')}`;
      throw new ValidationError(message, errors);
    }

    const user = await store.getUser(userId);
    let interests = interestsOf(user?.attributes[INTERESTS_ATTRIBUTE]);
    if (picks.categories !== undefined) {
      interests = categories;
      const attributes: JsonObject = { ...(user?.attributes ?? {}), [INTERESTS_ATTRIBUTE]: categories };
      await store.upsertUsers([{ id: userId, attributes }]);
    }

    let events = 0;
    let duplicates = 0;
    if (itemIds.length > 0) {
      await this.ensureEventType();
      const now = this.clock();
      // The first pick is the most recent event, so the user's history follows the order of the picks.
      const rows: EventInput[] = itemIds.map((itemId, r) => ({
        userId,
        itemId,
        type: this.eventType.name,
        value: null,
        timestamp: now - r,
        sessionId: null,
        context: { source: 'onboarding' },
        clientEventId: `onboarding:${userId}:${itemId}`,
      }));
      const written = await store.insertEvents(rows);
      events = written.inserted;
      duplicates = written.duplicates;
    }
    return { userId, interests, items: itemIds, eventType: this.eventType.name, events, duplicates };
  }

  /** Creates the onboarding event type when the store does not have it, and has serving pick it up. */
  private async ensureEventType(): Promise<void> {
    const types = await this.engine.store.listEventTypes();
    if (types.some((t) => t.name === this.eventType.name)) return;
    await this.engine.store.upsertEventType(this.eventType);
    await this.engine.service.refreshEventTypes();
    await this.engine.announce?.({ kind: 'event-types' });
  }

  /** Categories and items by popularity; rebuilt when the popularity model or the item count changes. */
  private async itemIndex(): Promise<ItemIndex> {
    const store = this.engine.store;
    const model = this.engine.service.loadedModels().find((m) => m.info.name === 'popularity') ?? null;
    const itemCount = await store.countItems();
    if (this.index && this.index.model === model && this.index.itemCount === itemCount) return this.index;
    const popularity = new Map<string, number>();
    if (model) {
      const scores = new Float32Array(model.itemIds.length);
      model.score(EMPTY_HISTORY, scores);
      model.itemIds.forEach((id, i) => {
        if (Number.isFinite(scores[i])) popularity.set(id, scores[i]);
      });
    }
    const byCategory = new Map<string, Item[]>();
    let cursor: string | null = null;
    do {
      const page = await store.listItems({ limit: 1000, cursor, available: true });
      for (const it of page.rows) {
        for (const c of it.categories) {
          const list = byCategory.get(c);
          if (list) list.push(it);
          else byCategory.set(c, [it]);
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
    const pop = (it: Item): number => popularity.get(it.id) ?? 0;
    const categories = [...byCategory].map(([name, items]) => ({
      name,
      popularity: items.reduce((s, it) => s + Math.max(0, pop(it)), 0),
      items: items.sort((a, b) => pop(b) - pop(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    }));
    categories.sort(
      (a, b) => b.popularity - a.popularity || b.items.length - a.items.length || (a.name < b.name ? -1 : 1),
    );
    this.index = { model, itemCount, categories };
    return this.index;
  }
}
