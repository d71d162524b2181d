/**
 * Tests that need an external service (PostgreSQL, Redis, ...) skip with a warning when it is not
 * reachable locally, but fail when CI=true: CI must never pass by silently skipping them.
 */
import pg from 'pg';
import { describe } from 'vitest';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function testPgUrl(): string {
  return process.env.KINDRED_TEST_PG_URL ?? DEFAULT_PG_URL;
}

/** True when a connection can be opened and answers a query within `timeoutMs`. */
export async function pgAvailable(url: string, timeoutMs = 3000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Decides whether tests needing `service` run. Returns true when it is available; otherwise warns
 * and returns false, or throws when `process.env.CI === 'true'`.
 */
export function requireServiceOrSkip(service: string, available: boolean, where: string): boolean {
  if (available) return true;
  const message = `${service} is not reachable at ${where}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (tests must not be skipped)`);
  console.warn(`[skip] ${message}; skipping its tests. Start it or set the URL to run them.`);
  return false;
}

/** `describe` when the service is available, `describe.skip` otherwise (throws on CI). */
export function describeWithService(
  service: string,
  available: boolean,
  where: string,
): typeof describe | typeof describe.skip {
  return requireServiceOrSkip(service, available, where) ? describe : describe.skip;
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
