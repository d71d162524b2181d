/**
 * A deterministic sample shop: users, a catalogue and two months of behaviour with a latent
 * taste structure, so that recommenders have something real to learn.
 *
 * Every user likes 1-3 leaf categories (their age band tilts which ones) and has a small style
 * vector; every item has a category vector, a style vector and a popularity. A user picks items
 * with probability ∝ popularity^a · exp(affinity), and each pick runs down the funnel
 * view → click → cart → purchase with step probabilities rising with affinity. Dwell time and
 * ratings also grow with affinity.
 */
import {
  DEFAULT_EVENT_TYPES,
  type EventInput,
  type ItemInput,
  type JsonObject,
  type UserInput,
} from '../domain/types.js';
import type { Store } from '../store/store.js';
import { createProgress, type ProgressOptions } from './progress.js';
import { CumulativeSampler, Rng } from './prng.js';
import {
  AGE_BANDS,
  COLOURS,
  COUNTRIES,
  DEVICES,
  GLOBAL_TAGS,
  LEAVES,
  PLACEMENTS,
  TITLE_VARIANTS,
  type Leaf,
} from './sample-catalog.js';

export interface SampleShopOptions {
  /** Default 42. */
  seed?: number;
  /** Default 2,000. */
  users?: number;
  /** Default 800. */
  items?: number;
  /** Approximate number of events. Default 60,000. */
  events?: number;
  /** Length of the activity window in days. Default 60. */
  days?: number;
  /** End of the activity window (ms). Default: the start of the current UTC day. */
  now?: number;
  /** Exponent a of popularity in the choice probability. Default 1. */
  popularityExponent?: number;
}

export interface SampleShop {
  users: UserInput[];
  items: ItemInput[];
  /** Sorted by timestamp. */
  events: EventInput[];
}

const DAY = 86_400_000;
const STYLE_DIMS = 3;
const UNAVAILABLE_SHARE = 0.03;

interface ItemModel {
  leaf: number;
  secondary: number;
  style: Float64Array;
  popularity: number;
  available: boolean;
}

interface UserModel {
  taste: Map<number, number>;
  style: Float64Array;
  activity: number;
  device: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function pickWeighted<T>(rng: Rng, options: readonly (readonly [T, number])[]): T {
  return options[rng.weighted(options.map(([, w]) => w))][0];
}

function roundPrice(rng: Rng, [min, max]: readonly [number, number]): number {
  // log-uniform: cheap items are more common, as in real catalogues
  const raw = Math.exp(Math.log(min) + rng.next() * (Math.log(max) - Math.log(min)));
  return Math.max(1, Math.round(raw)) - 0.01;
}

function buildItems(
  rng: Rng,
  count: number,
  now: number,
  days: number,
): { items: ItemInput[]; models: ItemModel[] } {
  const width = String(count).length;
  const titles = new Set<string>();
  const items: ItemInput[] = [];
  const models: ItemModel[] = [];
  const leafIndex = new Map(LEAVES.map((leaf, i) => [leaf.path, i]));
  for (let i = 0; i < count; i++) {
    const leaf = i < LEAVES.length ? i : rng.int(LEAVES.length);
    const spec: Leaf = LEAVES[leaf];
    let title = '';
    for (let attempt = 0; attempt < 20 && (title === '' || titles.has(title)); attempt++) {
      title = `${rng.pick(spec.modifiers)} ${rng.pick(spec.products)}`;
      if (attempt > 3 || rng.chance(0.25)) title += ` ${rng.pick(TITLE_VARIANTS)}`;
    }
    if (titles.has(title)) title += ` (${rng.pick(COLOURS)})`;
    titles.add(title);

    const secondaryPath = spec.related.length > 0 && rng.chance(0.3) ? rng.pick(spec.related) : null;
    const secondary = secondaryPath === null ? -1 : (leafIndex.get(secondaryPath) ?? -1);
    const categories = secondary >= 0 ? [spec.path, LEAVES[secondary].path] : [spec.path];

    const tags = new Set<string>(rng.sample(spec.tags.length, rng.range(1, 2)).map((t) => spec.tags[t]));
    if (rng.chance(0.25)) tags.add(rng.pick(GLOBAL_TAGS));
    const brand = rng.pick(spec.brands);
    const attributes: JsonObject = { brand, price: roundPrice(rng, spec.price), currency: 'EUR' };
    if (spec.path.startsWith('fashion/') || spec.path.startsWith('sports/'))
      attributes.colour = rng.pick(COLOURS);

    const available = !rng.chance(UNAVAILABLE_SHARE);
    const publishedAt = now - days * DAY - Math.floor(rng.next() * 365 * DAY);
    items.push({
      id: `p${pad(i + 1, width)}`,
      title,
      text: `${title} by ${brand}. ${rng.pick(spec.blurbs)}`,
      categories,
      tags: [...tags],
      attributes,
      available,
      publishedAt,
    });
    const style = new Float64Array(STYLE_DIMS);
    for (let d = 0; d < STYLE_DIMS; d++) style[d] = rng.normal();
    models.push({ leaf, secondary, style, popularity: Math.exp(0.9 * rng.normal()), available });
  }
  return { items, models };
}

function buildUsers(rng: Rng, count: number): { users: UserInput[]; models: UserModel[] } {
  const width = String(count).length;
  const users: UserInput[] = [];
  const models: UserModel[] = [];
  for (let u = 0; u < count; u++) {
    const age = AGE_BANDS[rng.weighted(AGE_BANDS.map((a) => a.share))];
    const country = pickWeighted(rng, COUNTRIES);
    const device = pickWeighted(rng, DEVICES);
    users.push({ id: `u${pad(u + 1, width)}`, attributes: { country, ageBand: age.band, device } });

    // 1-3 liked leaves; the age band tilts the first pick, later picks stay near earlier ones
    const tasteCount = rng.weighted([0.35, 0.4, 0.25]) + 1;
    const taste = new Map<number, number>();
    const base = LEAVES.map((leaf) => age.likes[leaf.path.split('/')[0]] ?? 1);
    while (taste.size < tasteCount) {
      const weights = base.map((w, i) => {
        if (taste.has(i)) return 0;
        const near = [...taste.keys()].some(
          (t) => LEAVES[t].path.split('/')[0] === LEAVES[i].path.split('/')[0],
        );
        return near ? w * 3 : w;
      });
      taste.set(rng.weighted(weights), 2 + rng.next());
    }
    const style = new Float64Array(STYLE_DIMS);
    for (let d = 0; d < STYLE_DIMS; d++) style[d] = 0.4 * rng.normal();
    models.push({ taste, style, activity: Math.exp(0.8 * rng.normal()), device });
  }
  return { users, models };
}

function affinity(user: UserModel, item: ItemModel): number {
  let a = user.taste.get(item.leaf) ?? 0;
  if (item.secondary >= 0) a += 0.6 * (user.taste.get(item.secondary) ?? 0);
  for (let d = 0; d < STYLE_DIMS; d++) a += user.style[d] * item.style[d];
  return a;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

interface Simulation {
  rng: Rng;
  items: ItemInput[];
  itemModels: ItemModel[];
  events: EventInput[];
  now: number;
  windowStart: number;
  windowLength: number;
}

/** A user's sessions: `budget` events at most, picked with `sampler`, affinities per item given. */
function simulateUser(
  sim: Simulation,
  userId: string,
  user: UserModel,
  sampler: CumulativeSampler,
  affinities: Float64Array,
  budget: number,
): void {
  const { rng, items, itemModels, events, now, windowStart, windowLength } = sim;
  const sessions = Math.max(1, Math.round(budget / 6 + rng.next()));
  const starts = Array.from({ length: sessions }, () => windowStart + Math.floor(rng.next() * windowLength));
  starts.sort((x, y) => x - y);
  let emitted = 0;
  for (let s = 0; s < sessions && emitted < budget; s++) {
    const sessionId = `${userId}-s${s + 1}`;
    let t = starts[s];
    const emit = (itemIndex: number, type: string, value: number | null, context: JsonObject | null) => {
      t += 1000 * (3 + Math.floor(rng.next() * 60));
      const timestamp = Math.min(t, now - 1);
      events.push({
        userId,
        itemId: items[itemIndex].id,
        type,
        value,
        timestamp,
        sessionId,
        context,
        clientEventId: null,
      });
      emitted++;
    };
    // 1-8 item views, geometric
    const views = 1 + Math.min(7, Math.floor(Math.log(1 - rng.next()) / Math.log(0.6)));
    let focus = -1;
    for (let v = 0; v < views && emitted < budget; v++) {
      let i = sampler.draw(rng);
      // a session tends to stay in the category of its first item
      for (
        let tries = 0;
        tries < 4 && focus >= 0 && itemModels[i].leaf !== focus && rng.chance(0.6);
        tries++
      ) {
        i = sampler.draw(rng);
      }
      if (focus < 0) focus = itemModels[i].leaf;
      const aff = affinities[i];
      emit(i, 'view', null, { placement: rng.pick(PLACEMENTS), device: user.device });
      if (rng.chance(0.7))
        emit(i, 'dwell', Math.round(Math.exp(2.3 + 0.35 * aff + 0.6 * rng.normal())), null);
      if (!rng.chance(sigmoid(-1 + 0.6 * aff))) continue;
      emit(i, 'click', null, null);
      if (!itemModels[i].available || !rng.chance(sigmoid(-1.6 + 0.6 * aff))) continue;
      emit(i, 'cart', null, null);
      if (!rng.chance(sigmoid(-0.2 + 0.3 * aff))) continue;
      emit(i, 'purchase', null, null);
      if (rng.chance(0.35)) {
        const stars = Math.round(2.6 + 0.5 * aff + 0.8 * rng.normal());
        emit(i, 'rating', Math.max(1, Math.min(5, stars)), null);
      }
    }
  }
}

/** Generates the shop; the same options always give the same shop. */
export function generateSampleShop(options: SampleShopOptions = {}): SampleShop {
  const rng = new Rng(options.seed ?? 42);
  const itemCount = options.items ?? 800;
  const targetEvents = options.events ?? 60_000;
  const days = options.days ?? 60;
  const now = options.now ?? Math.floor(Date.now() / DAY) * DAY;
  const a = options.popularityExponent ?? 1;

  const { items, models: itemModels } = buildItems(rng, itemCount, now, days);
  const { users, models: userModels } = buildUsers(rng, options.users ?? 2000);
  const totalActivity = userModels.reduce((sum, m) => sum + m.activity, 0);
  const sim: Simulation = {
    rng,
    items,
    itemModels,
    events: [],
    now,
    windowStart: now - days * DAY,
    windowLength: days * DAY,
  };
  const weights = new Float64Array(itemCount);
  const affinities = new Float64Array(itemCount);

  for (let u = 0; u < users.length; u++) {
    const user = userModels[u];
    for (let i = 0; i < itemCount; i++) {
      const item = itemModels[i];
      affinities[i] = affinity(user, item);
      weights[i] = Math.pow(item.popularity, a) * Math.exp(affinities[i]) * (item.available ? 1 : 0.2);
    }
    const budget = Math.max(3, Math.round((targetEvents * user.activity) / totalActivity));
    const sampler = new CumulativeSampler(weights);
    simulateUser(sim, users[u].id, user, sampler, affinities, budget);
  }

  sim.events.sort((x, y) => x.timestamp - y.timestamp);
  return { users, items, events: sim.events };
}

export interface SampleShopReport {
  users: number;
  items: number;
  events: number;
  /** Events already stored by an earlier load (they carry stable clientEventIds). */
  duplicates: number;
  seconds: number;
}

const EVENT_BATCH = 10_000;

/**
 * Generates the shop and writes it to the store. Events carry clientEventIds derived from the
 * seed, so loading the same shop twice stores it once. Event types the shop uses are created
 * with their default settings when missing.
 */
export async function loadSampleShop(
  store: Store,
  options: SampleShopOptions = {},
  progress?: ProgressOptions,
): Promise<SampleShopReport> {
  const started = performance.now();
  const shop = generateSampleShop(options);
  const seed = options.seed ?? 42;

  const known = new Set((await store.listEventTypes()).map((t) => t.name));
  const used = new Set(shop.events.map((e) => e.type));
  for (const type of DEFAULT_EVENT_TYPES) {
    if (used.has(type.name) && !known.has(type.name)) await store.upsertEventType(type);
  }

  await store.upsertUsers(shop.users);
  await store.upsertItems(shop.items);
  const bar = createProgress({
    label: 'sample shop events',
    unit: 'events',
    silent: progress === undefined,
    ...progress,
    total: shop.events.length,
  });
  let inserted = 0;
  let duplicates = 0;
  for (let i = 0; i < shop.events.length; i += EVENT_BATCH) {
    const batch = shop.events
      .slice(i, i + EVENT_BATCH)
      .map((e, k) => ({ ...e, clientEventId: `sample-${seed}-${i + k + 1}` }));
    const result = await store.insertEvents(batch);
    inserted += result.inserted;
    duplicates += result.duplicates;
    bar.update(i + batch.length);
  }
  bar.stop(`${inserted} stored, ${duplicates} already there`);
  return {
    users: shop.users.length,
    items: shop.items.length,
    events: inserted,
    duplicates,
    seconds: (performance.now() - started) / 1000,
  };
}
