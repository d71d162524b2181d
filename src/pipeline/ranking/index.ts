/** The ranking stage: features, the learned ranker and its blend fallback, and diversity. */
export * from './features.js';
export * from './learned-ranker.js';
export * from './blend-ranker.js';
export * from './diversity.js';
export {
  fitLogistic,
  type LogisticFit,
  type LogisticFitInput,
  type LogisticFitOptions,
} from './logistic-regression.js';
export { setCapacity, setSourceCount, sourceScore } from './source-ranks.js';
