/**
 * Speed of the ranking stage on 1,000 candidates from three sources over a 20,000-item
 * catalogue, for a user with 50 history entries.
 *
 *   npx tsx bench/ranker.ts            (or: npm run build && node dist/bench/ranker.js)
 *
 * Prints µs per request (median of repeated runs) for feature extraction alone, the learned
 * ranker (features + logistic scores), the blend ranker, and diversity (MMR over the top 200
 * with a 32-dimensional factor cosine and a per-category cap, K = 20).
 */
import type { Item } from '../src/domain/types.js';
import { buildCatalog } from '../src/pipeline/catalog.js';
import {
  BlendRanker,
  Diversifier,
  FeatureExtractor,
  LearnedRanker,
  examplesFromImpressions,
  factorCosine,
  trainRanker,
  type LoggedImpression,
} from '../src/pipeline/ranking/index.js';
import type { CandidateSet, RequestContext } from '../src/pipeline/types.js';

const ITEMS = 20_000;
const CANDIDATES = 1000;
const SOURCES = ['als', 'knn', 'popular'];
const NOW = Date.parse('2025-06-15T12:00:00Z');
const DAY = 86_400_000;
const DIM = 32;

let seed = 7;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
}

const items: Item[] = [];
const ids: string[] = [];
for (let i = 0; i < ITEMS; i++) {
  ids.push(`sku-${i}`);
  items.push({
    id: `sku-${i}`,
    title: null,
    text: null,
    categories: random() < 0.3 ? [`c${i % 50}`, `c${(i * 7) % 50}`] : [`c${i % 50}`],
    tags: [],
    attributes: { price: Math.round(5 + random() * 200) },
    available: true,
    publishedAt: NOW - Math.floor(random() * 400 * DAY),
    createdAt: NOW - 400 * DAY,
    updatedAt: NOW,
  });
}
const catalog = buildCatalog(ids, items);
const count = Float32Array.from({ length: ITEMS }, () => Math.floor(random() * 1000));
const stats = {
  count,
  windows: [
    { name: '24h', counts: count.map((c) => Math.floor(c / 100)) },
    { name: '7d', counts: count.map((c) => Math.floor(c / 20)) },
  ],
};
const factors = Float32Array.from({ length: ITEMS * DIM }, () => random() - 0.5);

function makeSet(): CandidateSet {
  const cap = CANDIDATES;
  const set: CandidateSet = {
    size: CANDIDATES,
    items: new Int32Array(cap),
    sources: new Uint32Array(cap),
    sourceScores: new Float32Array(SOURCES.length * cap).fill(NaN),
    score: new Float32Array(cap),
    removed: new Uint8Array(cap),
    slotOf: new Int32Array(ITEMS).fill(-1),
  };
  const share = [0.8, 0.3, 0.2];
  let j = 0;
  while (j < CANDIDATES) {
    const it = Math.floor(random() * ITEMS);
    if (set.slotOf[it] >= 0) continue;
    set.items[j] = it;
    set.slotOf[it] = j;
    for (let s = 0; s < SOURCES.length; s++) {
      if (random() < share[s] || (s === 0 && set.sources[j] === 0)) {
        set.sources[j] |= 1 << s;
        set.sourceScores[s * cap + j] = random();
      }
    }
    if (set.sources[j] === 0) {
      set.sources[j] = 1;
      set.sourceScores[j] = random();
    }
    set.removed[j] = random() < 0.05 ? 1 : 0;
    j++;
  }
  return set;
}

const ctx: RequestContext = {
  userId: 'u1',
  userIndex: 1,
  history: Int32Array.from({ length: 50 }, () => Math.floor(random() * ITEMS)),
  historyWeights: new Float32Array(50).fill(1),
  historyTimes: new Float64Array(50).fill(NOW - DAY),
  historyTypes: new Array<string>(50).fill('view'),
  session: new Int32Array(0),
  anchorItem: -1,
  cart: new Int32Array(0),
  user: {},
  context: { device: 'mobile' },
  placement: 'home',
  k: 20,
  now: NOW,
  excludeItems: new Int32Array(0),
  includeCategories: null,
  excludeCategories: null,
  debug: false,
};

const extractor = new FeatureExtractor(catalog, {
  sources: SOURCES,
  stats,
  context: [{ key: 'device', values: ['mobile', 'desktop', 'tablet'] }],
  hourOfDay: { buckets: 4 },
});

// A model trained on a small random log (its weights do not matter for speed).
const sets = Array.from({ length: 8 }, makeSet);
const log: LoggedImpression[] = [];
sets.forEach((set, q) => {
  extractor.extract(ctx, set);
  for (let j = 0; j < 200; j++) {
    log.push({
      recommendationId: `r${q}`,
      userId: 'u1',
      itemIndex: set.items[j],
      position: j,
      featureRow: extractor.copyRow(j),
      clicked: random() < 0.1,
      purchased: random() < 0.02,
      revenue: 10,
      time: NOW,
    });
  }
});
const model = trainRanker(examplesFromImpressions(log, 'click'), { featureNames: extractor.featureNames });
const learned = new LearnedRanker(extractor, model);
const blend = new BlendRanker(catalog, { sources: SOURCES, primary: 'als', stats });
const diversifier = new Diversifier(catalog, {
  lambda: 0.7,
  topN: 200,
  similarity: factorCosine(factors, DIM),
  maxPerCategory: 3,
});
const out = new Int32Array(20);

function measure(label: string, run: (set: CandidateSet) => void): void {
  const rounds = 7;
  const perRound = 300;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) run(sets[i % sets.length]);
    times.push(Number(process.hrtime.bigint() - start) / 1000 / perRound);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(42)} ${times[rounds >> 1].toFixed(1).padStart(8)} µs/request`);
}

console.log(
  `${CANDIDATES} candidates, ${SOURCES.length} sources, ${extractor.featureCount} features, catalogue ${ITEMS} items`,
);
measure('features', (set) => extractor.extract(ctx, set));
measure('learned ranker (features + scores)', (set) => learned.rank(ctx, set));
measure('blend ranker', (set) => blend.rank(ctx, set));
blend.rank(ctx, sets[0]);
measure('diversity (MMR N=200, K=20, cap 3)', (set) => diversifier.select(set, 20, out));
measure('learned ranker + diversity', (set) => {
  learned.rank(ctx, set);
  diversifier.select(set, 20, out);
});
