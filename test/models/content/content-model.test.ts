import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coldItemFold, evaluateColdItems, movieCatalogue } from '../../../bench/c1-cold-items.js';
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { decodeArtifact, encodeArtifact } from '../../../src/models/artifact.js';
import { ContentModel, contentFamily } from '../../../src/models/content/content-model.js';
import { attachItemContent } from '../../../src/models/content/item-content.js';
import type { ItemContent } from '../../../src/models/content/vectorize.js';

/** Two tastes: space films and love stories; `s5` is new (metadata only, no interactions). */
const CATALOGUE: { id: string; item: ItemContent }[] = [
  ...[1, 2, 3, 4].map((k) => ({
    id: `s${k}`,
    item: { title: `Space station laser ${k}`, categories: ['film/scifi'], attributes: { year: 2000 + k } },
  })),
  ...[1, 2, 3, 4].map((k) => ({
    id: `r${k}`,
    item: { title: `Wedding love letter ${k}`, categories: ['film/romance'], attributes: { year: 1980 + k } },
  })),
  {
    id: 's5',
    item: {
      title: 'Laser battle on a space station',
      categories: ['film/scifi'],
      attributes: { year: 2004 },
    },
  },
];

function toyData(): { data: InteractionData; items: ItemContent[] } {
  const users: string[] = [];
  const itemIds: string[] = [];
  for (let u = 0; u < 8; u++) {
    const prefix = u < 4 ? 's' : 'r';
    // Each fan has seen three of the four films of their taste.
    for (let k = 1; k <= 4; k++) {
      if (k === (u % 4) + 1) continue;
      users.push(`u${u}`);
      itemIds.push(`${prefix}${k}`);
    }
  }
  const data = interactionsFromArrays({ userIds: users, itemIds, catalog: CATALOGUE.map((c) => c.id) });
  return { data, items: CATALOGUE.map((c) => c.item) };
}

function ranking(model: ContentModel, data: InteractionData, user: string): string[] {
  const u = data.users.index(user);
  const m = data.matrix;
  const out = new Float32Array(data.items.size);
  model.score(
    {
      userIndex: u,
      history: m.indices.slice(m.indptr[u], m.indptr[u + 1]),
      historyWeights: m.data.slice(m.indptr[u], m.indptr[u + 1]),
    },
    out,
  );
  const seen = new Set(Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1])));
  return [...Array(data.items.size).keys()]
    .filter((i) => !seen.has(i))
    .sort((a, b) => out[b] - out[a] || a - b)
    .map((i) => data.items.id(i));
}

describe('content model', () => {
  for (const collaborative of [true, false]) {
    it(`recommends a new item known only by its metadata to users whose history matches it (collaborative ${collaborative})`, async () => {
      const { data, items } = toyData();
      const model = await ContentModel.fitContent(data, items, {
        collaborative,
        factors: 4,
        minDocumentFrequency: 1,
      });
      expect(model.isColdItem(data.items.index('s5'))).toBe(collaborative);
      for (const u of ['u0', 'u1', 'u2', 'u3']) {
        const ranked = ranking(model, data, u);
        // The space fan's unseen space film comes first or second with the new one; no love story beats s5.
        expect(ranked.indexOf('s5')).toBeLessThan(2);
      }
      for (const u of ['u4', 'u5', 'u6', 'u7']) {
        const ranked = ranking(model, data, u);
        expect(ranked.indexOf('s5')).toBeGreaterThan(0);
        expect(ranked[0].startsWith('r')).toBe(true);
      }
    });
  }

  it('finds similar items by content, the new item included', async () => {
    const { data, items } = toyData();
    const model = await ContentModel.fitContent(data, items, { minDocumentFrequency: 1, factors: 4 });
    const similar = model.similarItems(data.items.index('s5'), 4);
    expect(similar).not.toBeNull();
    const ids = Array.from(similar?.indices ?? []).map((i) => data.items.id(i));
    expect(ids.every((id) => id.startsWith('s'))).toBe(true);
    expect(ids).toHaveLength(4);
    const scores = Array.from(similar?.scores ?? []);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(model.similarItems(-1, 3)).toBeNull();
  });

  it('saves and loads an artifact that scores and finds neighbours identically', async () => {
    const { data, items } = toyData();
    for (const collaborative of [true, false]) {
      const model = await ContentModel.fitContent(data, items, {
        collaborative,
        factors: 4,
        minDocumentFrequency: 1,
      });
      const a = model.toArtifact();
      const bytes = Buffer.concat(encodeArtifact(a.header, a.arrays));
      const loaded = contentFamily.fromArtifact(decodeArtifact(new Uint8Array(bytes)));
      const ctx = { userIndex: 0, history: Int32Array.of(1, 2), historyWeights: Float32Array.of(1, 1) };
      const x = new Float32Array(items.length);
      const y = new Float32Array(items.length);
      model.score(ctx, x);
      loaded.score(ctx, y);
      expect(Array.from(y)).toEqual(Array.from(x));
      expect(loaded.similarItems(8, 3)).toEqual(model.similarItems(8, 3));
      expect(loaded.info).toEqual(model.info);
    }
  });

  it('trains through its registry family from content attached to the data', async () => {
    const { data, items } = toyData();
    await expect(contentFamily.fit(data, { factors: 4 })).rejects.toThrow(/needs item content/);
    attachItemContent(data, items);
    const model = await contentFamily.fit(data, { factors: 4, minDocumentFrequency: 1 });
    expect(model.itemIds).toEqual(CATALOGUE.map((c) => c.id));
    expect(() => contentFamily.resolveParams({ nope: 1 })).toThrow(/unknown parameter/);
  });
});

const COLD = path.resolve('../shared/data/coldstart/ml-100k/C1');
const hasMl100k =
  existsSync(path.join(COLD, 'train.tsv')) && existsSync(path.resolve('../shared/data/ml-100k/u.item'));
if (!hasMl100k) console.warn(`C1 split not found at ${COLD}: skipping the ml-100k cold-item test`);

describe.skipIf(!hasMl100k)('content model on ml-100k C1 (cold items)', () => {
  it('reaches NDCG@10 >= 0.10 ranking cold items from metadata alone', async () => {
    const catalogue = movieCatalogue('ml-100k');
    const fold = coldItemFold('ml-100k', catalogue, false);
    // Settings chosen on the validation carve by bench/c1-cold-items.ts.
    const model = await ContentModel.fitContent(fold.train, catalogue.items, {
      titleWeight: 0,
      numericWeight: 1,
      ridge: 1,
    });
    const metrics = evaluateColdItems(fold, (userIndex, history, historyWeights, out) =>
      model.score({ userIndex, history, historyWeights }, out),
    );
    expect(metrics.ndcg).toBeGreaterThanOrEqual(0.1);
  }, 60_000);
});
