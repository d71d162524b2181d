/** Users numbered once and rows grouped by user, on typed arrays. */
import type { RatingRows } from '../rating-file.js';

export interface UserNumbers {
  /** The user number of each row; users are numbered 0, 1, ... in order of first appearance. */
  userOf: Int32Array;
  /** User ids by number. */
  ids: string[];
}

export function numberUsers(rows: RatingRows): UserNumbers {
  const n = rows.length;
  const userOf = new Int32Array(n);
  const ids: string[] = [];
  const numbers = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = rows.users[i];
    let u = numbers.get(id);
    if (u === undefined) {
      u = ids.length;
      numbers.set(id, u);
      ids.push(id);
    }
    userOf[i] = u;
  }
  return { userOf, ids };
}

/** Rows grouped by user: user u's rows are `rows[start[u]]` to `rows[start[u + 1] - 1]`. */
export interface UserGroups {
  start: Int32Array;
  rows: Int32Array;
}

/**
 * Groups row indices by user with a stable counting sort: within a user, rows keep their order
 * in `order` (default: ascending row index). O(rows + users).
 */
export function groupByUser(users: UserNumbers, order?: Int32Array): UserGroups {
  const n = users.userOf.length;
  const count = users.ids.length;
  const start = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) start[users.userOf[i] + 1]++;
  for (let u = 0; u < count; u++) start[u + 1] += start[u];
  const next = start.slice(0, count);
  const grouped = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order === undefined ? k : order[k];
    grouped[next[users.userOf[i]]++] = i;
  }
  return { start, rows: grouped };
}
