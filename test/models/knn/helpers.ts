import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { decodeArtifact, encodeArtifact, type Artifact } from '../../../src/models/artifact.js';
import type { ScoringContext } from '../../../src/models/model.js';

/**
 * Toy 4 users x 5 items matrix (i4 has no interactions):
 *
 *        i0 i1 i2 i3 i4
 *   u0    1  1  0  0  0
 *   u1    1  0  1  0  0
 *   u2    0  1  1  3  0
 *   u3    2  0  0  1  0
 */
export function toyData(): InteractionData {
  const rows: [string, string, number][] = [
    ['u0', 'i0', 1],
    ['u0', 'i1', 1],
    ['u1', 'i0', 1],
    ['u1', 'i2', 1],
    ['u2', 'i1', 1],
    ['u2', 'i2', 1],
    ['u2', 'i3', 2],
    ['u2', 'i3', 1],
    ['u3', 'i0', 2],
    ['u3', 'i3', 1],
  ];
  return interactionsFromArrays({
    userIds: rows.map((t) => t[0]),
    itemIds: rows.map((t) => t[1]),
    strengths: rows.map((t) => t[2]),
    catalog: ['i0', 'i1', 'i2', 'i3', 'i4'],
  });
}

/** Seeded skewed random interactions: `events` draws over `users` x `items`, strengths 1..5. */
export function randomData(seed: number, users: number, items: number, events: number): InteractionData {
  let s = seed >>> 0;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const u: string[] = [];
  const i: string[] = [];
  const w: number[] = [];
  for (let e = 0; e < events; e++) {
    u.push(`u${Math.floor(rnd() * users)}`);
    i.push(`i${Math.floor(rnd() * rnd() * items)}`);
    w.push(1 + Math.floor(rnd() * 5));
  }
  return interactionsFromArrays({ userIds: u, itemIds: i, strengths: w });
}

export function ctx(history: number[], weights: number[], userIndex = -1): ScoringContext {
  return { userIndex, history: Int32Array.from(history), historyWeights: Float32Array.from(weights) };
}

/** An artifact written to bytes and read back, as a saved model would be. */
export function roundTrip(a: Artifact): Artifact {
  const chunks = encodeArtifact(a.header, a.arrays);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return decodeArtifact(bytes);
}

/** Neighbour list of an item or user as plain arrays. */
export function list(top: { indices: Int32Array; scores: Float32Array } | null): {
  idx: number[];
  sim: number[];
} {
  if (!top) throw new Error('no list');
  return { idx: Array.from(top.indices), sim: Array.from(top.scores) };
}
