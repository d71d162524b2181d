/** Per-user random holdout; see `splits/holdout.ts`. */
export { holdoutPerUser } from './splits/holdout.js';
