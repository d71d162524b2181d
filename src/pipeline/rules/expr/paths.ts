/**
 * What the names `item`, `user`, `context` and `now` and the fields after them mean, shared by the
 * checker (types) and the compiler (where to read).
 *
 * - `item`: `id`, `title`, `text`, `categories`, `tags`, `available`, `publishedAt`, `createdAt`,
 *   `updatedAt`, `attributes.*`; `category` is the first of `categories` (or `attributes.category`
 *   when the item has no categories); any other field name reads `attributes.<name>`, so
 *   `item.price` is `item.attributes.price`.
 * - `user`: `id`, `attributes.*`; any other field name reads `attributes.<name>`.
 * - `context`: `placement`, `now`, `attributes.*`; any other field name reads `attributes.<name>`.
 * - `now`: the request time in epoch milliseconds.
 */
import type { Root } from './ast.js';
import { ANY, BOOL, LIST, NULL, NUM, OBJ, STR, type TypeMask } from './types.js';

export const ROOTS: readonly Root[] = ['item', 'user', 'context', 'now'];

/** Where a path reads from once resolved. */
export type ResolvedPath =
  | { kind: 'now'; type: TypeMask }
  | { kind: 'category'; type: TypeMask }
  | { kind: 'walk'; root: 'item' | 'user' | 'context'; segments: (string | number)[]; type: TypeMask };

const ITEM_FIELDS: Record<string, TypeMask> = {
  id: STR | NULL,
  title: STR | NULL,
  text: STR | NULL,
  categories: LIST | NULL,
  tags: LIST | NULL,
  available: BOOL | NULL,
  publishedAt: NUM | NULL,
  createdAt: NUM | NULL,
  updatedAt: NUM | NULL,
  attributes: OBJ | NULL,
};

const USER_FIELDS: Record<string, TypeMask> = { id: STR | NULL, attributes: OBJ | NULL };

const CONTEXT_FIELDS: Record<string, TypeMask> = { placement: STR | NULL, attributes: OBJ | NULL };

const LIST_ELEMENT: Record<string, TypeMask> = { categories: STR | NULL, tags: STR | NULL };

function own(table: Record<string, TypeMask>, key: string): TypeMask | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Resolves a path, or returns why it is not valid. `root` must be one of `ROOTS`. */
export function resolvePath(root: Root, segments: readonly (string | number)[]): ResolvedPath | string {
  if (root === 'now') {
    return segments.length === 0 ? { kind: 'now', type: NUM } : "'now' is a number and has no fields";
  }
  if (segments.length === 0) return { kind: 'walk', root, segments: [], type: OBJ };
  if (segments.includes('__proto__')) return "'__proto__' is not a field name";
  const first = segments[0];
  const table = root === 'item' ? ITEM_FIELDS : root === 'user' ? USER_FIELDS : CONTEXT_FIELDS;
  if (typeof first === 'number') return `${root}[${first}]: use a field name`;
  if (root === 'context' && first === 'now') {
    return segments.length === 1 ? { kind: 'now', type: NUM } : "'context.now' is a number and has no fields";
  }
  if (root === 'item' && first === 'category') {
    return segments.length === 1
      ? { kind: 'category', type: STR | NULL }
      : "'item.category' is a string and has no fields";
  }
  const known = own(table, first);
  if (known === undefined) {
    // Free-form attribute shorthand.
    return { kind: 'walk', root, segments: ['attributes', ...segments], type: ANY };
  }
  if (segments.length === 1) return { kind: 'walk', root, segments: [...segments], type: known };
  if (first === 'attributes') return { kind: 'walk', root, segments: [...segments], type: ANY };
  const second = segments[1];
  const name = `${root}.${first}`;
  if ((known & LIST) !== 0) {
    if (typeof second !== 'number') {
      return second === 'length'
        ? `'${name}' is a list: use len(${name}) for its length`
        : `'${name}' is a list and has no field '${second}'`;
    }
    if (segments.length > 2) return `'${name}[${second}]' is a string and has no fields`;
    return { kind: 'walk', root, segments: [...segments], type: own(LIST_ELEMENT, first) ?? ANY };
  }
  return `'${name}' is ${first === 'available' ? 'true/false' : 'a single value'} and has no field '${second}'`;
}
