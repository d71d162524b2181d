/**
 * Item content into sparse feature vectors (one CSR row per item, L2-normalised).
 *
 * Feature groups, each with its own weight:
 * - `title`, `text`: terms (see ./text.ts) weighted by BM25 or TF-IDF, per field:
 *     bm25   idf·tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen)),  idf = ln(1 + (N − df + 0.5)/(df + 0.5))
 *     tfidf  tf·idf,                                            idf = ln((1 + N)/(1 + df)) + 1
 *   with N the number of items, df the items whose field holds the term, len the field's term count;
 * - `tags`: each tag (lower-cased, whole) weighted by the same idf, tf 1;
 * - `categories`: one-hot, and every parent of a path (`sports/running` also gives `sports`),
 *   parents at half weight;
 * - `attributes`: one-hot `key=value` for string and boolean attributes (and string arrays);
 * - `numeric`: numeric attributes, and `publishedAt` as a fractional year under the name
 *   `published`: either quantile bins (one-hot, the two neighbouring bins at half weight, so
 *   close values stay similar) or one standardised value per attribute;
 * - `embedding`: dense rows from an EmbeddingProvider, appended when one is given.
 *
 * Each group's block of a row is L2-normalised and scaled so that its squared norm is the
 * group's weight, then the row is L2-normalised: the cosine of two items whose rows have every
 * group is the weight-averaged cosine of their groups. Terms with a document frequency below
 * `minDocumentFrequency` are left out (a term of one item tells nothing about similarity).
 *
 * `ContentVectorizer.fit` learns the vocabulary and statistics from a catalogue; `transform`
 * encodes items (known or new) with them; both travel in JSON (`toJSON`, `fromJSON`).
 */
import type { CsrMatrix } from '../../data/csr.js';
import type { JsonObject, JsonValue } from '../../domain/types.js';
import type { EmbeddingProvider } from './embedding.js';
import { terms, type TermOptions } from './text.js';

/** What the vectorizer reads of an item (the store's Item fits). */
export interface ItemContent {
  title?: string | null;
  text?: string | null;
  tags?: readonly string[];
  categories?: readonly string[];
  attributes?: JsonObject;
  /** ms since epoch. */
  publishedAt?: number | null;
}

export type TermWeighting = 'bm25' | 'tfidf';
export type NumericEncoding = 'bins' | 'standard';

export const FEATURE_GROUPS = [
  'title',
  'text',
  'tags',
  'categories',
  'attributes',
  'numeric',
  'embedding',
] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];
export type FieldWeights = Record<FeatureGroup, number>;

export interface VectorizerOptions {
  weighting: TermWeighting;
  /** BM25 term-frequency saturation. */
  k1: number;
  /** BM25 length normalisation, 0..1. */
  b: number;
  terms: TermOptions;
  minDocumentFrequency: number;
  numericEncoding: NumericEncoding;
  /** Quantile bins per numeric attribute (encoding `bins`). */
  numericBins: number;
  /** Weight of each group (0 leaves the group out). */
  weights: FieldWeights;
}

export const DEFAULT_FIELD_WEIGHTS: FieldWeights = {
  title: 1,
  text: 1,
  tags: 1,
  categories: 1,
  attributes: 0.5,
  numeric: 0.5,
  embedding: 1,
};

export const DEFAULT_VECTORIZER_OPTIONS: VectorizerOptions = {
  weighting: 'bm25',
  k1: 1.2,
  b: 0.75,
  terms: { normalise: 'lemma', removeStopWords: true, ngrams: 1 },
  minDocumentFrequency: 2,
  numericEncoding: 'bins',
  numericBins: 10,
  weights: DEFAULT_FIELD_WEIGHTS,
};

/** Item rows over the fitted features. */
export interface ContentVectors {
  /** items × features, rows L2-normalised (an item without any feature has an empty row). */
  matrix: CsrMatrix;
  /** Name of each feature column (`t:` title term, `x:` text term, `g:` tag, `c:` category, `a:` attribute, `n:` numeric, `e:` embedding). */
  featureNames: readonly string[];
}

interface NumericSpec {
  name: string;
  /** Bin upper edges (bins: the value goes to the first edge ≥ it), or [mean, std] (standard). */
  edges: number[];
}

/** The fitted state of a vectorizer, as JSON. */
export interface VectorizerState extends JsonObject {
  options: JsonObject;
  /** Feature names, by column. */
  features: string[];
  /** idf of each column (1 for columns that are not terms or tags). */
  idf: number[];
  /** Mean term count of title and text. */
  avgTitle: number;
  avgText: number;
  numeric: JsonObject[];
  embeddingDimensions: number;
}

const MS_PER_YEAR = 365.2425 * 86_400_000;

/** Fractional calendar year of a time in ms. */
export function yearOf(ms: number): number {
  return 1970 + ms / MS_PER_YEAR;
}

function groupOfFeature(name: string): FeatureGroup {
  switch (name[0]) {
    case 't':
      return 'title';
    case 'x':
      return 'text';
    case 'g':
      return 'tags';
    case 'c':
      return 'categories';
    case 'a':
      return 'attributes';
    case 'n':
      return 'numeric';
    default:
      return 'embedding';
  }
}

/** Category paths with their parents: `a/b/c` → a/b/c (1), a/b (0.5), a (0.5). */
function categoryFeatures(categories: readonly string[] | undefined, into: Map<string, number>): void {
  for (const raw of categories ?? []) {
    const path = raw.trim().toLowerCase();
    if (path.length === 0) continue;
    into.set(`c:${path}`, 1);
    let cut = path.lastIndexOf('/');
    while (cut > 0) {
      const parent = `c:${path.slice(0, cut)}`;
      if (!into.has(parent)) into.set(parent, 0.5);
      cut = path.lastIndexOf('/', cut - 1);
    }
  }
}

function attributeFeatures(attributes: JsonObject | undefined, into: Map<string, number>): void {
  if (!attributes) return;
  const add = (key: string, v: JsonValue): void => {
    if (typeof v === 'string' && v.trim() !== '') into.set(`a:${key}=${v.trim().toLowerCase()}`, 1);
    else if (typeof v === 'boolean') into.set(`a:${key}=${v}`, 1);
  };
  for (const [key, v] of Object.entries(attributes)) {
    if (Array.isArray(v)) for (const e of v) add(key, e);
    else add(key, v);
  }
}

function numericValues(item: ItemContent): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, v] of Object.entries(item.attributes ?? {})) {
    if (typeof v === 'number' && Number.isFinite(v)) out.set(key, v);
  }
  if (typeof item.publishedAt === 'number' && Number.isFinite(item.publishedAt)) {
    out.set('published', yearOf(item.publishedAt));
  }
  return out;
}

function termCounts(list: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of list) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

interface ItemTerms {
  title: Map<string, number>;
  titleLength: number;
  text: Map<string, number>;
  textLength: number;
  tags: Set<string>;
}

export class ContentVectorizer {
  private readonly column = new Map<string, number>();

  private constructor(
    readonly options: VectorizerOptions,
    private readonly features: string[],
    private readonly idf: Float32Array,
    private readonly avgTitle: number,
    private readonly avgText: number,
    private readonly numeric: NumericSpec[],
    readonly embeddingDimensions: number,
  ) {
    features.forEach((f, c) => this.column.set(f, c));
  }

  /** Learns vocabulary, document frequencies and numeric bins from a catalogue. */
  static fit(
    items: readonly ItemContent[],
    options: Partial<VectorizerOptions> = {},
    embeddingDimensions = 0,
  ): ContentVectorizer {
    return ContentVectorizer.fitTerms(items, options, embeddingDimensions).vectorizer;
  }

  /** Fits on the items and encodes them, tokenising each text once. */
  static fitTransform(
    items: readonly ItemContent[],
    options: Partial<VectorizerOptions> = {},
    embeddings?: { dimensions: number; rows: readonly Float32Array[] },
  ): { vectorizer: ContentVectorizer; vectors: ContentVectors } {
    const { vectorizer, itemTermList } = ContentVectorizer.fitTerms(
      items,
      options,
      embeddings?.dimensions ?? 0,
    );
    return { vectorizer, vectors: vectorizer.encode(items, embeddings?.rows, itemTermList) };
  }

  private static fitTerms(
    items: readonly ItemContent[],
    options: Partial<VectorizerOptions>,
    embeddingDimensions: number,
  ): { vectorizer: ContentVectorizer; itemTermList: ItemTerms[] } {
    const o: VectorizerOptions = {
      ...DEFAULT_VECTORIZER_OPTIONS,
      ...options,
      terms: { ...DEFAULT_VECTORIZER_OPTIONS.terms, ...options.terms },
      weights: { ...DEFAULT_FIELD_WEIGHTS, ...options.weights },
    };
    const n = items.length;
    const df = new Map<string, number>();
    let titleLen = 0;
    let textLen = 0;
    const bump = (name: string): void => {
      df.set(name, (df.get(name) ?? 0) + 1);
    };
    const itemTermList: ItemTerms[] = [];
    for (const item of items) {
      const t = itemTerms(item, o);
      itemTermList.push(t);
      titleLen += t.titleLength;
      textLen += t.textLength;
      for (const term of t.title.keys()) bump(`t:${term}`);
      for (const term of t.text.keys()) bump(`x:${term}`);
      for (const tag of t.tags) bump(`g:${tag}`);
      const other = new Map<string, number>();
      categoryFeatures(item.categories, other);
      attributeFeatures(item.attributes, other);
      for (const name of other.keys()) bump(name);
    }
    const features: string[] = [];
    const idf: number[] = [];
    for (const [name, d] of [...df.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const group = groupOfFeature(name);
      if (!(o.weights[group] > 0)) continue;
      const isTerm = group === 'title' || group === 'text' || group === 'tags';
      if (isTerm && d < o.minDocumentFrequency) continue;
      features.push(name);
      idf.push(isTerm ? idfOf(o.weighting, n, d) : 1);
    }
    const numeric: NumericSpec[] = [];
    if (o.weights.numeric > 0) {
      const values = new Map<string, number[]>();
      for (const item of items) {
        for (const [k, v] of numericValues(item)) {
          const list = values.get(k);
          if (list) list.push(v);
          else values.set(k, [v]);
        }
      }
      for (const [name, list] of [...values.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const spec = numericSpec(name, list, o);
        numeric.push(spec);
        if (o.numericEncoding === 'standard') {
          features.push(`n:${name}`);
          idf.push(1);
        } else {
          for (let b = 0; b < spec.edges.length; b++) {
            features.push(`n:${name}#${b}`);
            idf.push(1);
          }
        }
      }
    }
    if (o.weights.embedding > 0) {
      for (let d = 0; d < embeddingDimensions; d++) {
        features.push(`e:${d}`);
        idf.push(1);
      }
    }
    const vectorizer = new ContentVectorizer(
      o,
      features,
      Float32Array.from(idf),
      n > 0 ? titleLen / n : 0,
      n > 0 ? textLen / n : 0,
      numeric,
      o.weights.embedding > 0 ? embeddingDimensions : 0,
    );
    return { vectorizer, itemTermList };
  }

  static fromJSON(state: VectorizerState): ContentVectorizer {
    const options = state.options as unknown as VectorizerOptions;
    const numeric = state.numeric.map((s) => ({
      name: String(s.name),
      edges: (s.edges as number[]).map(Number),
    }));
    return new ContentVectorizer(
      options,
      state.features.slice(),
      Float32Array.from(state.idf),
      state.avgTitle,
      state.avgText,
      numeric,
      state.embeddingDimensions,
    );
  }

  toJSON(): VectorizerState {
    return {
      options: JSON.parse(JSON.stringify(this.options)) as JsonObject,
      features: this.features.slice(),
      idf: Array.from(this.idf),
      avgTitle: this.avgTitle,
      avgText: this.avgText,
      numeric: this.numeric.map((s) => ({ name: s.name, edges: s.edges })),
      embeddingDimensions: this.embeddingDimensions,
    };
  }

  get featureNames(): readonly string[] {
    return this.features;
  }

  get featureCount(): number {
    return this.features.length;
  }

  /**
   * The rows of the items over the fitted features; `embeddings` (one row of
   * `embeddingDimensions` per item) fills the embedding group.
   */
  transform(items: readonly ItemContent[], embeddings?: readonly Float32Array[]): ContentVectors {
    return this.encode(items, embeddings);
  }

  private encode(
    items: readonly ItemContent[],
    embeddings?: readonly Float32Array[],
    itemTermList?: readonly ItemTerms[],
  ): ContentVectors {
    const o = this.options;
    const n = items.length;
    const indptr = new Int32Array(n + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    const groupSq = new Map<FeatureGroup, number>();
    for (let r = 0; r < n; r++) {
      const item = items[r];
      const row = new Map<number, number>();
      const put = (name: string, w: number): void => {
        const c = this.column.get(name);
        if (c !== undefined && w !== 0) row.set(c, (row.get(c) ?? 0) + w);
      };
      const t = itemTermList?.[r] ?? itemTerms(item, o);
      for (const [term, tf] of t.title)
        put(`t:${term}`, this.termWeight(`t:${term}`, tf, t.titleLength, this.avgTitle));
      for (const [term, tf] of t.text)
        put(`x:${term}`, this.termWeight(`x:${term}`, tf, t.textLength, this.avgText));
      for (const tag of t.tags) put(`g:${tag}`, this.idfOf(`g:${tag}`));
      const other = new Map<string, number>();
      categoryFeatures(item.categories, other);
      attributeFeatures(item.attributes, other);
      for (const [name, w] of other) put(name, w);
      if (o.weights.numeric > 0) {
        const values = numericValues(item);
        for (const spec of this.numeric) {
          const v = values.get(spec.name);
          if (v === undefined) continue;
          if (o.numericEncoding === 'standard') {
            put(`n:${spec.name}`, (v - spec.edges[0]) / spec.edges[1]);
          } else {
            const bin = binOf(spec.edges, v);
            put(`n:${spec.name}#${bin}`, 1);
            if (bin > 0) put(`n:${spec.name}#${bin - 1}`, 0.5);
            if (bin + 1 < spec.edges.length) put(`n:${spec.name}#${bin + 1}`, 0.5);
          }
        }
      }
      const emb = embeddings?.[r];
      if (emb && this.embeddingDimensions > 0) {
        if (emb.length !== this.embeddingDimensions) {
          throw new RangeError(
            `embedding of item ${r} has ${emb.length} values, expected ${this.embeddingDimensions}`,
          );
        }
        for (let d = 0; d < emb.length; d++) put(`e:${d}`, emb[d]);
      }
      // Per-group norms, then scale each group to squared norm = its weight, then the row to 1.
      groupSq.clear();
      for (const [c, w] of row) {
        const g = groupOfFeature(this.features[c]);
        groupSq.set(g, (groupSq.get(g) ?? 0) + w * w);
      }
      const sorted = [...row.keys()].sort((a, b) => a - b);
      let total = 0;
      const start = cols.length;
      for (const c of sorted) {
        const g = groupOfFeature(this.features[c]);
        const sq = groupSq.get(g) ?? 0;
        const w = sq > 0 ? ((row.get(c) ?? 0) * Math.sqrt(o.weights[g])) / Math.sqrt(sq) : 0;
        if (w === 0) continue;
        cols.push(c);
        vals.push(w);
        total += w * w;
      }
      const norm = total > 0 ? 1 / Math.sqrt(total) : 0;
      for (let p = start; p < vals.length; p++) vals[p] *= norm;
      indptr[r + 1] = cols.length;
    }
    return {
      matrix: {
        rows: n,
        cols: this.features.length,
        indptr,
        indices: Int32Array.from(cols),
        data: Float32Array.from(vals),
      },
      featureNames: this.features,
    };
  }

  private idfOf(name: string): number {
    const c = this.column.get(name);
    return c === undefined ? 0 : this.idf[c];
  }

  private termWeight(name: string, tf: number, length: number, avgLength: number): number {
    const idf = this.idfOf(name);
    if (this.options.weighting === 'tfidf') return tf * idf;
    const { k1, b } = this.options;
    const norm = 1 - b + (b * length) / (avgLength > 0 ? avgLength : 1);
    return (idf * tf * (k1 + 1)) / (tf + k1 * norm);
  }
}

/** Fits a vectorizer on the items and encodes them. */
export function vectorizeItems(
  items: readonly ItemContent[],
  options: Partial<VectorizerOptions> = {},
): { vectorizer: ContentVectorizer; vectors: ContentVectors } {
  return ContentVectorizer.fitTransform(items, options);
}

/**
 * As vectorizeItems, with the embedding group filled by `provider` from each item's title and
 * text (one text per item: title, a full stop, then the text).
 */
export async function vectorizeItemsWithEmbeddings(
  items: readonly ItemContent[],
  provider: EmbeddingProvider,
  options: Partial<VectorizerOptions> = {},
): Promise<{ vectorizer: ContentVectorizer; vectors: ContentVectors }> {
  const texts = items.map((it) => [it.title ?? '', it.text ?? ''].filter((s) => s.length > 0).join('. '));
  const rows = await provider.embed(texts);
  if (rows.length !== items.length) {
    throw new RangeError(`embedding provider returned ${rows.length} rows for ${items.length} texts`);
  }
  return ContentVectorizer.fitTransform(items, options, { dimensions: provider.dimensions, rows });
}

/** The idf of a term in `df` of `n` documents under the weighting. */
export function idfOf(weighting: TermWeighting, n: number, df: number): number {
  return weighting === 'bm25' ? Math.log(1 + (n - df + 0.5) / (df + 0.5)) : Math.log((1 + n) / (1 + df)) + 1;
}

function itemTerms(item: ItemContent, o: VectorizerOptions): ItemTerms {
  const title = o.weights.title > 0 && item.title ? terms(item.title, o.terms) : [];
  const text = o.weights.text > 0 && item.text ? terms(item.text, o.terms) : [];
  const tags = new Set<string>();
  if (o.weights.tags > 0) {
    for (const tag of item.tags ?? []) {
      const t = tag.trim().toLowerCase();
      if (t.length > 0) tags.add(t);
    }
  }
  return {
    title: termCounts(title),
    titleLength: title.length,
    text: termCounts(text),
    textLength: text.length,
    tags,
  };
}

function numericSpec(name: string, values: number[], o: VectorizerOptions): NumericSpec {
  if (o.numericEncoding === 'standard') {
    let mean = 0;
    for (const v of values) mean += v;
    mean /= values.length;
    let sq = 0;
    for (const v of values) sq += (v - mean) * (v - mean);
    const std = Math.sqrt(sq / values.length);
    return { name, edges: [mean, std > 0 ? std : 1] };
  }
  const sorted = values.slice().sort((a, b) => a - b);
  const bins = Math.max(1, Math.floor(o.numericBins));
  const edges: number[] = [];
  for (let q = 1; q <= bins; q++) {
    const e = sorted[Math.min(sorted.length - 1, Math.ceil((q * sorted.length) / bins) - 1)];
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return { name, edges };
}

function binOf(edges: readonly number[], v: number): number {
  for (let b = 0; b < edges.length; b++) if (v <= edges[b]) return b;
  return edges.length - 1;
}
