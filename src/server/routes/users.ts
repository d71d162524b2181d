import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import { UserRow, validateUserRows } from '../../ingest/rows.js';
import {
  BatchResult,
  DeleteResultJson,
  ErrorBody,
  IdParams,
  PageQuery,
  UserJson,
  userJson,
} from '../schemas.js';
import { batchBodyValidator, batchResult, MAX_BATCH_ROWS, rowErrorsToValidation } from './batch.js';
import type { RouteDeps } from './deps.js';

const UserBody = Type.Object({ attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });

export const userRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const { store } = engine;

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: `Insert or replace up to ${MAX_BATCH_ROWS} users; bad rows are reported, good rows kept`,
        body: Type.Array(UserRow, { maxItems: MAX_BATCH_ROWS }),
        response: { 200: BatchResult, 400: ErrorBody },
      },
      validatorCompiler: batchBodyValidator(),
    },
    async (req) => {
      const rows = req.body as unknown[];
      const { valid, errors } = validateUserRows(rows);
      const written = valid.length > 0 ? await store.upsertUsers(valid) : 0;
      return batchResult(rows.length, valid.length, written, 0, errors);
    },
  );

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users, one page at a time',
        querystring: PageQuery,
        response: {
          200: Type.Object({
            users: Type.Array(UserJson),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (req) => {
      const page = await store.listUsers({ limit: req.query.limit, cursor: req.query.cursor ?? null });
      return { users: page.rows.map(userJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'One user',
        params: IdParams,
        response: { 200: UserJson, 404: ErrorBody },
      },
    },
    async (req) => {
      const user = await store.getUser(req.params.id);
      if (!user) throw new NotFoundError('user', req.params.id);
      return userJson(user);
    },
  );

  app.put(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Create or replace a user',
        params: IdParams,
        body: UserBody,
        response: { 200: UserJson, 400: ErrorBody },
      },
    },
    async (req) => {
      const { valid, errors } = validateUserRows([{ ...req.body, id: req.params.id }]);
      if (errors.length > 0) throw rowErrorsToValidation(errors);
      await store.upsertUsers(valid);
      return userJson((await store.getUser(req.params.id))!);
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Merge attributes into an existing user (a null value removes the attribute)',
        params: IdParams,
        body: UserBody,
        response: { 200: UserJson, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const current = await store.getUser(req.params.id);
      if (!current) throw new NotFoundError('user', req.params.id);
      const attributes = mergeAttributes(current.attributes, req.body.attributes ?? {});
      const { valid, errors } = validateUserRows([{ id: req.params.id, attributes }]);
      if (errors.length > 0) throw rowErrorsToValidation(errors);
      await store.upsertUsers(valid);
      return userJson((await store.getUser(req.params.id))!);
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a user and all their events',
        params: IdParams,
        response: { 200: DeleteResultJson, 404: ErrorBody },
      },
    },
    async (req) => {
      const result = await store.deleteUser(req.params.id);
      if (!result.deleted) throw new NotFoundError('user', req.params.id);
      return result;
    },
  );
};

/** Shallow merge where a null value deletes the key. */
export function mergeAttributes(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
