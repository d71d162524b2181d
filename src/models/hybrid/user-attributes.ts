/**
 * User attributes for the hybrid model, aligned with the user indices of training data, carried
 * beside it like item content (held weakly, released with the data). Each attribute becomes a
 * feature label: strings and booleans as `key=value`, numbers by decade-like bands.
 */
import type { IdMap } from '../../data/id-map.js';
import type { InteractionData } from '../../data/interactions.js';
import type { Store } from '../../store/store.js';

const attached = new WeakMap<InteractionData, readonly (readonly string[])[]>();

/** Feature labels of one user's attributes. */
export function attributeLabels(attributes: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(attributes)) {
    if (typeof v === 'string' && v.length > 0 && v.length <= 64) out.push(`${key}=${v}`);
    else if (typeof v === 'boolean') out.push(`${key}=${v}`);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(`${key}~${Math.floor(v / 10) * 10}`);
  }
  return out;
}

export function attachUserLabels(data: InteractionData, labels: readonly (readonly string[])[]): void {
  if (labels.length !== data.users.size)
    throw new RangeError(`${labels.length} label lists for ${data.users.size} users`);
  attached.set(data, labels);
}

export function attachedUserLabels(data: InteractionData): readonly (readonly string[])[] | undefined {
  return attached.get(data);
}

/** The attribute labels of each user of `users`, by index (users missing from the store get none). */
export async function loadUserLabels(store: Store, users: IdMap): Promise<string[][]> {
  const out: string[][] = Array.from({ length: users.size }, () => []);
  let cursor: string | null = null;
  do {
    const page = await store.listUsers({ limit: 1000, cursor });
    for (const u of page.rows) {
      const i = users.index(u.id);
      if (i >= 0) out[i] = attributeLabels(u.attributes);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
