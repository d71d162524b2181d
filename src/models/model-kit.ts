/** Pieces shared by the model implementations. */
import type { InteractionData } from '../data/interactions.js';
import type { ModelInfo } from './model.js';
import type { Params } from './params.js';

/** Milliseconds elapsed since `start` (a performance.now() reading), in seconds. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/** ModelInfo for a model just fitted on `data`. */
export function fittedInfo(
  name: string,
  params: Params,
  data: InteractionData,
  fitSeconds: number,
): ModelInfo {
  return {
    name,
    params: { ...params },
    trainedAt: Date.now(),
    users: data.users.size,
    items: data.items.size,
    interactions: data.matrix.indptr[data.matrix.rows],
    fitSeconds,
  };
}

/** Throws unless the artifact was written by the expected model family. */
export function expectModel(info: ModelInfo, name: string): void {
  if (info.name !== name) throw new Error(`artifact holds model '${info.name}', expected '${name}'`);
}
