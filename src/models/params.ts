/**
 * Model hyper-parameters: flat name → number | string | boolean maps, validated per model
 * with defaults filled in. Numeric and boolean values may arrive as strings (CLI flags).
 */
import { ValidationError } from '../domain/errors.js';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Reads parameters one by one; `done()` rejects names that were never read. */
export class ParamReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly model: string,
    private readonly raw: Params = {},
  ) {}

  number(key: string, fallback: number, rule: NumberRule = {}): number {
    const v = this.take(key);
    if (v === undefined) return fallback;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    const ok =
      Number.isFinite(n) &&
      (rule.min === undefined || n >= rule.min) &&
      (rule.max === undefined || n <= rule.max) &&
      (!rule.integer || Number.isInteger(n));
    if (!ok) {
      const range = `${rule.min ?? '-inf'}..${rule.max ?? 'inf'}`;
      this.fail(
        key,
        `must be ${rule.integer ? 'an integer' : 'a number'} in ${range}, got ${JSON.stringify(v)}`,
      );
    }
    return n;
  }

  choice<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const v = this.take(key);
    if (v === undefined) return fallback;
    const found = allowed.find((a) => a === v);
    if (found === undefined) this.fail(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return found;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.take(key);
    if (v === undefined) return fallback;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
  }

  /** Throws when a parameter was given that the model does not know. */
  done(): void {
    const unknown = Object.keys(this.raw).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) {
      const known = [...this.seen].join(', ') || 'none';
      throw new ValidationError(
        `unknown parameter(s) for model '${this.model}': ${unknown.join(', ')} (known: ${known})`,
      );
    }
  }

  private take(key: string): ParamValue | undefined {
    this.seen.add(key);
    return Object.hasOwn(this.raw, key) ? this.raw[key] : undefined;
  }

  private fail(key: string, message: string): never {
    throw new ValidationError(`parameter '${key}' of model '${this.model}' ${message}`, [
      { field: `params/${this.model}/${key}`, message },
    ]);
  }
}
