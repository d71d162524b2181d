/** Shared data and checks for the rating-model tests. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { holdoutPerUser } from '../../../src/eval/holdout.js';
import { ratingErrors } from '../../../src/eval/metrics.js';
import { readRatingFile, selectRows, type RatingRows } from '../../../src/eval/rating-file.js';
import { Rng } from '../../../src/ingest/prng.js';
import { decodeArtifact, encodeArtifact, type Artifact } from '../../../src/models/artifact.js';
import type { RatingPredictor, Recommender } from '../../../src/models/model.js';
import { trainingContext } from '../../../src/models/recommend.js';

/** Ratings of a known low-rank model: r = clip(round(3.5 + b_u + b_i + p_u·q_i + noise), 1, 5). */
export function syntheticRatings(seed: number, users = 200, items = 120, density = 0.2): RatingRows {
  const rng = new Rng(seed);
  const k = 3;
  const p = Array.from({ length: users * k }, () => rng.normal() * 0.6);
  const q = Array.from({ length: items * k }, () => rng.normal() * 0.6);
  const bu = Array.from({ length: users }, () => rng.normal() * 0.4);
  const bi = Array.from({ length: items }, () => rng.normal() * 0.5);
  const rows: RatingRows = {
    users: [],
    items: [],
    ratings: new Float32Array(0),
    timestamps: new Float64Array(0),
    length: 0,
  };
  const ratings: number[] = [];
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < items; i++) {
      if (!rng.chance(density)) continue;
      let x = 3.5 + bu[u] + bi[i] + rng.normal() * 0.4;
      for (let f = 0; f < k; f++) x += p[u * k + f] * q[i * k + f];
      rows.users.push(`u${u}`);
      rows.items.push(`i${i}`);
      ratings.push(Math.min(5, Math.max(1, Math.round(x))));
    }
  }
  rows.ratings = Float32Array.from(ratings);
  rows.timestamps = new Float64Array(ratings.length);
  rows.length = ratings.length;
  return rows;
}

export function dataOf(rows: RatingRows): InteractionData {
  return interactionsFromArrays({ userIds: rows.users, itemIds: rows.items, strengths: rows.ratings });
}

/** A seeded per-user split of `rows` into training data and held-out rows. */
export function splitRows(
  rows: RatingRows,
  fraction: number,
  seed = 42,
): { data: InteractionData; heldOut: RatingRows } {
  const s = holdoutPerUser(rows, fraction, seed);
  return { data: dataOf(selectRows(rows, s.train)), heldOut: selectRows(rows, s.heldOut) };
}

/** RMSE of the model's predictions of `rows`. */
export function rmseOn(model: RatingPredictor, data: InteractionData, rows: RatingRows): number {
  const predicted = new Float64Array(rows.length);
  for (let e = 0; e < rows.length; e++) {
    predicted[e] = model.predict(data.users.index(rows.users[e]), data.items.index(rows.items[e]));
  }
  return ratingErrors(predicted, rows.ratings).rmse;
}

/** The artifact written to bytes and read back. */
export function roundTrip(artifact: Artifact): Artifact {
  const chunks = encodeArtifact(artifact.header, artifact.arrays);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return decodeArtifact(bytes);
}

const ML = path.resolve('../shared/data/ml-100k');
export const ml100kAvailable = existsSync(path.join(ML, 'u1.base'));
if (!ml100kAvailable) console.warn(`MovieLens 100K not found at ${ML}: skipping the rating-quality tests`);

let u1: { data: InteractionData; heldOut: RatingRows } | null = null;

/** u1.base split into 85% training and 15% held-out ratings per user (seeded). */
export function ml100kSplit(): { data: InteractionData; heldOut: RatingRows } {
  u1 ??= splitRows(readRatingFile(path.join(ML, 'u1.base')), 0.15, 42);
  return u1;
}

/**
 * RMSE on the rows of `rows` with known users and items, scoring every user both as known
 * (`learned`) and as unknown to the model from their training history (`folded`: fold-in).
 */
export function foldInRmse(
  model: Recommender,
  data: InteractionData,
  rows: RatingRows,
): { learned: number; folded: number } {
  const byUser = new Map<number, number[]>();
  for (let e = 0; e < rows.length; e++) {
    const u = data.users.index(rows.users[e]);
    if (u < 0 || data.items.index(rows.items[e]) < 0) continue;
    const list = byUser.get(u);
    if (list) list.push(e);
    else byUser.set(u, [e]);
  }
  const learned = new Float32Array(data.items.size);
  const folded = new Float32Array(data.items.size);
  let se1 = 0;
  let se2 = 0;
  let n = 0;
  for (const [u, list] of byUser) {
    const ctx = trainingContext(data, u);
    model.score(ctx, learned);
    model.score({ ...ctx, userIndex: -1 }, folded);
    for (const e of list) {
      const i = data.items.index(rows.items[e]);
      se1 += (learned[i] - rows.ratings[e]) ** 2;
      se2 += (folded[i] - rows.ratings[e]) ** 2;
      n++;
    }
  }
  return { learned: Math.sqrt(se1 / n), folded: Math.sqrt(se2 / n) };
}
