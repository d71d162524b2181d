/**
 * Checks a value against a TypeBox schema and throws a ValidationError whose details name every
 * offending field as a dotted path under `root` (e.g. `experiment.models.1.search.trials`).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValidationError, type FieldError } from './errors.js';

function dotted(root: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [root, ...parts].join('.');
}

export function checkSchema<T extends TSchema>(schema: T, value: unknown, root: string): Static<T> {
  const check = TypeCompiler.Compile(schema);
  if (check.Check(value)) return value;
  const details: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(value)) {
    const field = dotted(root, e.path);
    if (seen.has(field)) continue;
    seen.add(field);
    details.push({ field, message: e.message });
    if (details.length >= 20) break;
  }
  const first = details[0];
  throw new ValidationError(first ? `${first.field}: ${first.message}` : `${root} is invalid`, details);
}
