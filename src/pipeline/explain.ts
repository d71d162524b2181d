/** Explanations shared by several sources. */
import { canExplain, type Recommender } from '../models/model.js';
import type { Catalog } from './catalog.js';
import type { Explanation, ItemNames, RequestContext } from './types.js';

export function catalogNames(catalog: Catalog): ItemNames {
  return {
    itemId: (i) => catalog.itemIds[i],
    title: (i) => catalog.item(i)?.title ?? catalog.itemIds[i],
    category: (i) => {
      const p = catalog.categoryPtr[i];
      return p < catalog.categoryPtr[i + 1] ? catalog.categories[catalog.categoryIdx[p]] : null;
    },
  };
}

/**
 * "Because you interacted with X": the history item contributing most to the model's score for
 * the item (models that can explain), else the most similar recent history item.
 */
export function becauseOfHistory(
  model: Recommender,
  ctx: RequestContext,
  item: number,
  names: ItemNames,
  kind = 'because-you-interacted',
): Explanation | null {
  let source = -1;
  const sctx = { userIndex: ctx.userIndex, history: ctx.history, historyWeights: ctx.historyWeights };
  if (canExplain(model)) {
    for (const c of model.explain(sctx, item, 3)) {
      if (c.itemIndex >= 0) {
        source = c.itemIndex;
        break;
      }
    }
  }
  if (source < 0) return null;
  return { kind, text: `Because you liked ${names.title(source)}`, itemId: names.itemId(source) };
}
