/** Data and checks for the item fold-in tests of the factor models. */
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { selectRows, type RatingRows } from '../../../src/eval/rating-file.js';

/** Training data with one item's ratings left out entirely, the same data with them, and those ratings. */
export interface HeldOutItem {
  without: InteractionData;
  full: InteractionData;
  /** The held-out item's users (indices in `without`) and their ratings. */
  users: Int32Array;
  weights: Float32Array;
  /** The same users as indices in `full`, and the item's index there. */
  fullUsers: Int32Array;
  fullItem: number;
}

export function holdOutItem(rows: RatingRows, itemId: string): HeldOutItem {
  const keep: number[] = [];
  const held: number[] = [];
  for (let e = 0; e < rows.length; e++) (rows.items[e] === itemId ? held : keep).push(e);
  const data = (r: RatingRows): InteractionData =>
    interactionsFromArrays({ userIds: r.users, itemIds: r.items, strengths: r.ratings });
  const without = data(selectRows(rows, keep));
  const full = data(rows);
  const users: number[] = [];
  const fullUsers: number[] = [];
  const weights: number[] = [];
  for (const e of held) {
    const u = without.users.index(rows.users[e]);
    if (u < 0) continue;
    users.push(u);
    fullUsers.push(full.users.index(rows.users[e]));
    weights.push(rows.ratings[e]);
  }
  return {
    without,
    full,
    users: Int32Array.from(users),
    weights: Float32Array.from(weights),
    fullUsers: Int32Array.from(fullUsers),
    fullItem: full.items.index(itemId),
  };
}

/** Ratings per user of the data. */
export function userCounts(data: InteractionData): Int32Array {
  const { indptr, rows } = data.matrix;
  const out = new Int32Array(rows);
  for (let u = 0; u < rows; u++) out[u] = indptr[u + 1] - indptr[u];
  return out;
}

/** Solves the dense system A x = b (n x n, row-major) by Gaussian elimination with pivoting. */
export function solveDense(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, r) => [...row, b[r]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * The minimiser [b, q] of Σ_e c_e (t_e − b − v_e·q)² + (regBias b² + regFactor |q|²) · visits,
 * from the terms (c_e, t_e, v_e) written out one by one.
 */
export function directRidge(
  terms: { weight: number; target: number; v: ArrayLike<number> }[],
  k: number,
  regBias: number,
  regFactor: number,
  visits: number,
): number[] {
  const d = k + 1;
  const a = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(d).fill(0);
  for (const t of terms) {
    const x = [1, ...Array.from(t.v)];
    for (let r = 0; r < d; r++) {
      b[r] += t.weight * x[r] * t.target;
      for (let c = 0; c < d; c++) a[r][c] += t.weight * x[r] * x[c];
    }
  }
  a[0][0] += regBias * visits;
  for (let f = 1; f < d; f++) a[f][f] += regFactor * visits;
  return solveDense(a, b);
}

/** Row u of a users x k matrix. */
export function row(m: Float32Array, u: number, k: number): Float32Array {
  return m.subarray(u * k, u * k + k);
}

/** Per-user scores v_u · q (+ offset[u]) of an item vector q over every row of `v`. */
export function userScores(
  v: Float32Array,
  k: number,
  q: ArrayLike<number>,
  offset?: ArrayLike<number>,
): Float64Array {
  const users = v.length / k;
  const out = new Float64Array(users);
  for (let u = 0; u < users; u++) {
    let x = offset ? offset[u] : 0;
    for (let f = 0; f < k; f++) x += v[u * k + f] * q[f];
    out[u] = x;
  }
  return out;
}

/** Area under the ROC curve of `scores` separating the users in `positives` from the others. */
export function auc(scores: Float64Array, positives: Int32Array): number {
  const isPos = new Uint8Array(scores.length);
  for (const u of positives) isPos[u] = 1;
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let nPos = 0;
  for (let r = 0; r < order.length;) {
    let e = r;
    while (e + 1 < order.length && scores[order[e + 1]] === scores[order[r]]) e++;
    const mid = (r + e) / 2 + 1;
    for (let t = r; t <= e; t++)
      if (isPos[order[t]]) {
        rankSum += mid;
        nPos++;
      }
    r = e + 1;
  }
  const nNeg = scores.length - nPos;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let f = 0; f < a.length; f++) {
    d += a[f] * b[f];
    na += a[f] * a[f];
    nb += b[f] * b[f];
  }
  return d / Math.sqrt(na * nb);
}

/** Pearson correlation of a[x] and b[map[x]] over x. */
export function correlation(a: Float64Array, b: Float64Array, map: Int32Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let x = 0; x < n; x++) {
    ma += a[x];
    mb += b[map[x]];
  }
  ma /= n;
  mb /= n;
  let d = 0;
  let va = 0;
  let vb = 0;
  for (let x = 0; x < n; x++) {
    const da = a[x] - ma;
    const db = b[map[x]] - mb;
    d += da * db;
    va += da * da;
    vb += db * db;
  }
  return d / Math.sqrt(va * vb);
}

/** Index in `full` of every user of `without` (matched by id). */
export function userMap(without: InteractionData, full: InteractionData): Int32Array {
  return Int32Array.from(without.users.ids, (id) => full.users.index(id));
}

/** What the ridge item fold-in checks need of a biased factor model. */
export interface RidgeModelView {
  k: number;
  mean: number;
  userBias: Float64Array;
  /** The vectors item factors are multiplied with (SVD++: p_u + z_u). */
  userVectors: Float32Array;
  head: { mean: number; userBias: Float64Array; p: Float32Array } | null;
  regItemBias: number;
  regItemFactors: number;
  missingRatio: number;
  missingRating: number;
}

/**
 * The rating head's and the ranking head's item fold-in written out term by term: every rating
 * of the item, and for the ranking head every other training user's imputed pair at its rate.
 */
export function directItemFoldIn(
  view: RidgeModelView,
  h: HeldOutItem,
): { rating: number[]; ranking: number[] | null } {
  const { k } = view;
  const n = h.users.length;
  const terms = Array.from(h.users, (u, e) => ({
    weight: 1,
    target: h.weights[e] - view.mean - view.userBias[u],
    v: row(view.userVectors, u, k),
  }));
  const rating = directRidge(terms, k, view.regItemBias, view.regItemFactors, n);
  if (!view.head) return { rating, ranking: null };
  const head = view.head;
  const items = h.without.items.size;
  const counts = userCounts(h.without);
  const rated = new Map<number, number>();
  h.users.forEach((u, e) => rated.set(u, h.weights[e]));
  const rankTerms: { weight: number; target: number; v: Float32Array }[] = [];
  let visits = 0;
  for (let u = 0; u < counts.length; u++) {
    const r = rated.get(u);
    if (r !== undefined) {
      rankTerms.push({ weight: 1, target: r - head.mean - head.userBias[u], v: row(head.p, u, k) });
      visits += 1;
      continue;
    }
    const m = counts[u];
    const w = Math.min(items - m, Math.round(view.missingRatio * m)) / (items - m);
    rankTerms.push({
      weight: w,
      target: view.missingRating - head.mean - head.userBias[u],
      v: row(head.p, u, k),
    });
    visits += w;
  }
  return { rating, ranking: directRidge(rankTerms, k, view.regItemBias, view.regItemFactors, visits) };
}

/** Largest absolute difference of two vectors of the same length. */
export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let f = 0; f < Math.min(a.length, b.length); f++) worst = Math.max(worst, Math.abs(a[f] - b[f]));
  return worst;
}
