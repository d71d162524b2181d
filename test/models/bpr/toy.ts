/** Small data sets and checks shared by the BPR and WARP tests. */
import { expect } from 'vitest';
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { decodeArtifact, encodeArtifact, type SavableRecommender } from '../../../src/models/artifact.js';
import type { ScoringContext } from '../../../src/models/model.js';
import { trainingContext } from '../../../src/models/recommend.js';

const CLUSTER_USERS = 20;
const CLUSTER_ITEMS = 5;

/**
 * Two taste clusters: users c0..c19 interacted with four of items a0..a4 each, users d0..d19
 * with four of b0..b4; user c_u misses a_(u mod 5), d_u misses b_(u mod 5). Items are indexed
 * a0..a4 (0..4), b0..b4 (5..9).
 */
export function clusterData(): InteractionData {
  const users: string[] = [];
  const items: string[] = [];
  for (let u = 0; u < CLUSTER_USERS; u++) {
    for (let i = 0; i < CLUSTER_ITEMS; i++) {
      if (i === u % CLUSTER_ITEMS) continue;
      users.push(`c${u}`, `d${u}`);
      items.push(`a${i}`, `b${i}`);
    }
  }
  const catalog: string[] = [];
  for (const c of ['a', 'b']) for (let i = 0; i < CLUSTER_ITEMS; i++) catalog.push(`${c}${i}`);
  return interactionsFromArrays({ userIds: users, itemIds: items, catalog });
}

/** The item a cluster user misses: a_(u mod 5) for c_u, b_(u mod 5) for d_u. */
export function missingItem(data: InteractionData, user: number): number {
  const id = data.users.ids[user];
  const u = Number(id.slice(1));
  return data.items.index(`${id[0] === 'c' ? 'a' : 'b'}${u % CLUSTER_ITEMS}`);
}

/** Asserts that every user's best-scored item outside their history is the one they miss. */
export function expectClustersLearnt(model: SavableRecommender, data: InteractionData): void {
  const out = new Float32Array(data.items.size);
  for (let u = 0; u < data.users.size; u++) {
    const ctx = trainingContext(data, u);
    model.score(ctx, out);
    for (const h of ctx.history) out[h] = -Infinity;
    let best = 0;
    for (let i = 1; i < out.length; i++) if (out[i] > out[best]) best = i;
    expect(best, `user ${data.users.ids[u]}`).toBe(missingItem(data, u));
  }
}

/** Every array of the artifact, as bytes, for bitwise comparison. */
export function artifactBytes(model: SavableRecommender): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, a] of Object.entries(model.toArtifact().arrays)) {
    out[name] = new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  }
  return out;
}

/** The model after a round trip through the artifact encoding. */
export function roundTrip<T extends SavableRecommender>(
  model: T,
  fromArtifact: (a: ReturnType<typeof decodeArtifact>) => T,
): T {
  const chunks = encodeArtifact(model.toArtifact().header, model.toArtifact().arrays);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return fromArtifact(decodeArtifact(bytes));
}

/** Asserts that every user's own items outrank every item of the other cluster. */
export function expectOwnItemsFirst(model: SavableRecommender, data: InteractionData): void {
  const out = new Float32Array(data.items.size);
  for (let u = 0; u < data.users.size; u++) {
    const ctx = trainingContext(data, u);
    model.score(ctx, out);
    const own = data.users.ids[u][0] === 'c' ? 'a' : 'b';
    let worstOwn = Infinity;
    for (const h of ctx.history) worstOwn = Math.min(worstOwn, out[h]);
    for (let i = 0; i < out.length; i++) {
      if (data.items.ids[i][0] !== own) expect(out[i], `user ${data.users.ids[u]}`).toBeLessThan(worstOwn);
    }
  }
}

/** Scores of a context as bytes. */
export function scoreBytes(model: SavableRecommender, ctx: ScoringContext): Uint8Array {
  const out = new Float32Array(model.itemIds.length);
  model.score(ctx, out);
  return new Uint8Array(out.buffer);
}

export function context(history: number[], weights?: number[]): ScoringContext {
  return {
    userIndex: -1,
    history: Int32Array.from(history),
    historyWeights: Float32Array.from(weights ?? history.map(() => 1)),
  };
}
