/**
 * Recommendation ids: UUID version 7 (RFC 9562), a 48-bit millisecond timestamp followed by 74
 * random bits. They read as ordinary UUIDs to clients, and ids served later sort after earlier
 * ones, so the served-recommendation log's unique index on them grows at its right edge instead
 * of touching a random page of an ever larger index for every list it writes.
 */
import { randomFillSync } from 'node:crypto';

const POOL = 16 * 256;
const pool = new Uint8Array(POOL);
let offset = POOL;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A new UUIDv7 for a list served at `now` (ms since the epoch). */
export function newRecommendationId(now: number = Date.now()): string {
  if (offset === POOL) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = pool.subarray(offset, offset + 16);
  offset += 16;
  const ms = Math.max(0, Math.floor(now));
  const hi = Math.floor(ms / 2 ** 16) % 2 ** 32;
  const lo = ms % 2 ** 16;
  const h = (x: number) => HEX[x & 0xff];
  return (
    h(hi >>> 24) +
    h(hi >>> 16) +
    h(hi >>> 8) +
    h(hi) +
    '-' +
    h(lo >>> 8) +
    h(lo) +
    '-' +
    h(0x70 | (r[6] & 0x0f)) +
    h(r[7]) +
    '-' +
    h(0x80 | (r[8] & 0x3f)) +
    h(r[9]) +
    '-' +
    h(r[10]) +
    h(r[11]) +
    h(r[12]) +
    h(r[13]) +
    h(r[14]) +
    h(r[15])
  );
}
