import { describe, expect, it } from 'vitest';
import {
  ContentVectorizer,
  vectorizeItems,
  type ItemContent,
} from '../../../src/models/content/vectorize.js';

const TITLE_ONLY = { title: 1, text: 0, tags: 0, categories: 0, attributes: 0, numeric: 0, embedding: 0 };
// Three documents: df(apple) = df(banana) = 2, df(cherry) = df(date) = 1; lengths 2, 2, 3 (mean 7/3).
const DOCS: ItemContent[] = [
  { title: 'apple banana' },
  { title: 'apple cherry' },
  { title: 'banana banana date' },
];

function row(vectors: ReturnType<typeof vectorizeItems>['vectors'], r: number): Map<string, number> {
  const { indptr, indices, data } = vectors.matrix;
  const out = new Map<string, number>();
  for (let p = indptr[r]; p < indptr[r + 1]; p++) out.set(vectors.featureNames[indices[p]], data[p]);
  return out;
}

describe('content vectors', () => {
  it('weights terms by BM25 (k1 1.2, b 0.75), then L2-normalises', () => {
    const { vectors } = vectorizeItems(DOCS, {
      weighting: 'bm25',
      minDocumentFrequency: 1,
      weights: TITLE_ONLY,
    });
    const idf2 = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)); // ln 1.6
    const idf1 = Math.log(1 + (3 - 1 + 0.5) / (1 + 0.5)); // ln 8/3
    // Document 3: banana tf 2, date tf 1, length 3 against a mean of 7/3.
    const norm = 1 - 0.75 + (0.75 * 3) / (7 / 3);
    const banana = (idf2 * 2 * 2.2) / (2 + 1.2 * norm);
    const date = (idf1 * 1 * 2.2) / (1 + 1.2 * norm);
    const len = Math.hypot(banana, date);
    const r3 = row(vectors, 2);
    expect(r3.get('t:banana')).toBeCloseTo(banana / len, 6);
    expect(r3.get('t:date')).toBeCloseTo(date / len, 6);
    // Document 1: apple and banana have the same df and tf, so equal weights 1/√2.
    const r1 = row(vectors, 0);
    expect(r1.get('t:apple')).toBeCloseTo(Math.SQRT1_2, 6);
    expect(r1.get('t:banana')).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('weights terms by TF-IDF with the smoothed idf ln((1+N)/(1+df)) + 1', () => {
    const { vectors } = vectorizeItems(DOCS, {
      weighting: 'tfidf',
      minDocumentFrequency: 1,
      weights: TITLE_ONLY,
    });
    const banana = 2 * (Math.log(4 / 3) + 1);
    const date = Math.log(2) + 1;
    const r3 = row(vectors, 2);
    expect(r3.get('t:banana')).toBeCloseTo(banana / Math.hypot(banana, date), 6);
    const r2 = row(vectors, 1);
    const apple = Math.log(4 / 3) + 1;
    const cherry = Math.log(2) + 1;
    expect(r2.get('t:cherry')).toBeCloseTo(cherry / Math.hypot(apple, cherry), 6);
  });

  it('drops terms below the minimum document frequency', () => {
    const { vectors } = vectorizeItems(DOCS, { minDocumentFrequency: 2, weights: TITLE_ONLY });
    expect([...vectors.featureNames].sort()).toEqual(['t:apple', 't:banana']);
  });

  it('encodes category paths with their parents, attributes and binned numbers, each group at its weight', () => {
    const items: ItemContent[] = [
      { categories: ['sports/running'], attributes: { brand: 'Kea', price: 10 } },
      { categories: ['sports/swimming'], attributes: { brand: 'Kea', price: 100 } },
    ];
    const weights = { title: 0, text: 0, tags: 0, categories: 1, attributes: 1, numeric: 1, embedding: 0 };
    const { vectors } = vectorizeItems(items, { weights, numericBins: 2 });
    const r = row(vectors, 0);
    // Each group has squared norm 1 before the row is normalised over 3 groups.
    const s = 1 / Math.sqrt(3);
    expect(r.get('c:sports/running')).toBeCloseTo((1 / Math.hypot(1, 0.5)) * s, 6);
    expect(r.get('c:sports')).toBeCloseTo((0.5 / Math.hypot(1, 0.5)) * s, 6);
    expect(r.get('a:brand=kea')).toBeCloseTo(s, 6);
    // price 10 falls in bin 0, its neighbour bin 1 gets half weight.
    expect(r.get('n:price#0')).toBeCloseTo((1 / Math.hypot(1, 0.5)) * s, 6);
    expect(r.get('n:price#1')).toBeCloseTo((0.5 / Math.hypot(1, 0.5)) * s, 6);
    let sq = 0;
    for (const v of r.values()) sq += v * v;
    expect(sq).toBeCloseTo(1, 6);
  });

  it('encodes a new item with the fitted vocabulary after a JSON round trip', () => {
    const fitted = ContentVectorizer.fit(DOCS, { minDocumentFrequency: 1, weights: TITLE_ONLY });
    const again = ContentVectorizer.fromJSON(JSON.parse(JSON.stringify(fitted.toJSON())));
    const a = fitted.transform([{ title: 'cherry apple kiwi' }]);
    const b = again.transform([{ title: 'cherry apple kiwi' }]);
    expect(Array.from(b.matrix.indices)).toEqual(Array.from(a.matrix.indices));
    expect(Array.from(b.matrix.data)).toEqual(Array.from(a.matrix.data));
    expect(a.matrix.indices.length).toBe(2); // kiwi is not in the vocabulary
  });
});
