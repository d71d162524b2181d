import type { EventInput } from '../../src/domain/types.js';

/** An event with no session, context or client id: what most store and data tests write. */
export function plainEvent(
  userId: string,
  itemId: string,
  type: string,
  timestamp: number,
  value: number | null = null,
): EventInput {
  return { userId, itemId, type, value, timestamp, sessionId: null, context: null, clientEventId: null };
}
