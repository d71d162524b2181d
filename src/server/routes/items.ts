import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import type { Item } from '../../domain/types.js';
import { ItemRow, validateItemRows } from '../../ingest/rows.js';
import {
  BatchResult,
  DeleteResultJson,
  ErrorBody,
  IdParams,
  ItemJson,
  itemJson,
  PageQuery,
} from '../schemas.js';
import { batchBodyValidator, batchResult, MAX_BATCH_ROWS, rowErrorsToValidation } from './batch.js';
import type { RouteDeps } from './deps.js';
import { mergeAttributes } from './users.js';

const ItemBody = Type.Omit(ItemRow, ['id']);
const ItemPatch = Type.Partial(ItemBody);

export const itemRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const { store, service } = engine;

  async function write(
    rows: unknown[],
  ): Promise<{ valid: number; written: number; errors: ReturnType<typeof validateItemRows>['errors'] }> {
    const { valid, errors } = validateItemRows(rows);
    const written = valid.length > 0 ? await store.upsertItems(valid) : 0;
    for (const it of valid) service.itemChanged(it.id, it.available ?? true);
    await engine.pipelines.itemsWritten(valid.map((it) => it.id));
    if (valid.length > 0) await engine.announce({ kind: 'items', ids: valid.map((it) => it.id) });
    return { valid: valid.length, written, errors };
  }

  app.post(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: `Insert or replace up to ${MAX_BATCH_ROWS} items; bad rows are reported, good rows kept`,
        body: Type.Array(ItemRow, { maxItems: MAX_BATCH_ROWS }),
        response: { 200: BatchResult, 400: ErrorBody },
      },
      validatorCompiler: batchBodyValidator(),
    },
    async (req) => {
      const rows = req.body as unknown[];
      const { valid, written, errors } = await write(rows);
      return batchResult(rows.length, valid, written, 0, errors);
    },
  );

  app.get(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: 'List items, optionally of one category or availability',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({ category: Type.Optional(Type.String()), available: Type.Optional(Type.Boolean()) }),
        ]),
        response: {
          200: Type.Object({
            items: Type.Array(ItemJson),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await store.listItems({
        limit: q.limit,
        cursor: q.cursor ?? null,
        category: q.category,
        available: q.available,
      });
      return { items: page.rows.map(itemJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'One item',
        params: IdParams,
        response: { 200: ItemJson, 404: ErrorBody },
      },
    },
    async (req) => itemJson(await mustGet(req.params.id)),
  );

  app.put(
    '/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'Create or replace an item',
        params: IdParams,
        body: ItemBody,
        response: { 200: ItemJson, 400: ErrorBody },
      },
    },
    async (req) => {
      const { errors } = await write([{ ...req.body, id: req.params.id }]);
      if (errors.length > 0) throw rowErrorsToValidation(errors);
      return itemJson(await mustGet(req.params.id));
    },
  );

  app.patch(
    '/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'Change some fields of an item; attributes are merged (a null value removes one)',
        params: IdParams,
        body: ItemPatch,
        response: { 200: ItemJson, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const current = await mustGet(req.params.id);
      const patch = req.body as Record<string, unknown>;
      const merged: Record<string, unknown> = { ...rowOf(current), ...patch, id: current.id };
      if (patch.attributes && typeof patch.attributes === 'object') {
        merged.attributes = mergeAttributes(current.attributes, patch.attributes as Record<string, unknown>);
      }
      const { errors } = await write([merged]);
      if (errors.length > 0) throw rowErrorsToValidation(errors);
      return itemJson(await mustGet(req.params.id));
    },
  );

  app.delete(
    '/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'Delete an item and every event on it',
        params: IdParams,
        response: { 200: DeleteResultJson, 404: ErrorBody },
      },
    },
    async (req) => {
      const result = await store.deleteItem(req.params.id);
      if (!result.deleted) throw new NotFoundError('item', req.params.id);
      service.itemChanged(req.params.id, false);
      await engine.pipelines.itemsWritten([req.params.id]);
      await engine.announce({ kind: 'items', ids: [req.params.id] });
      return result;
    },
  );

  async function mustGet(id: string): Promise<Item> {
    const item = await store.getItem(id);
    if (!item) throw new NotFoundError('item', id);
    return item;
  }
};

/** The stored item as a wire row, so a patch can be validated like any other write. */
function rowOf(it: Item): Record<string, unknown> {
  return {
    id: it.id,
    title: it.title,
    text: it.text,
    categories: it.categories,
    tags: it.tags,
    attributes: it.attributes,
    available: it.available,
    publishedAt: it.publishedAt,
  };
}
