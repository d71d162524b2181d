/**
 * What one serving process tells the others when it changes shared state, so that every worker
 * of a multi-process server answers from the same models, catalogue, rules and settings.
 *
 * The durable state (store, model registry, rule and settings files) is shared already; a change
 * only says which in-memory view each receiver must re-read.
 */

/** An acknowledged event as the in-memory observers need it (exploration, context popularity). */
export interface ObservedEvent {
  itemId: string;
  type: string;
  timestamp: number;
  context: Readonly<Record<string, unknown>> | null;
}

export type EngineChange =
  /** Another version serves for some family (trained, promoted, rolled back, loaded). */
  | { kind: 'models' }
  /** Items were written or deleted. */
  | { kind: 'items'; ids: string[] }
  /** Events were acknowledged. */
  | { kind: 'events'; inserted: number; events: ObservedEvent[] }
  | { kind: 'event-types' }
  | { kind: 'rules' }
  | { kind: 'knowledge' }
  | { kind: 'settings' }
  | { kind: 'rankers' };

/** Carries changes between the serving processes of one deployment. */
export interface ChangeBus {
  /**
   * Tells every other process; resolves once they all applied it (or after a timeout, logged).
   * Never rejects.
   */
  publish(change: EngineChange): Promise<void>;
  /** Calls `handler` for every change another process published. */
  subscribe(handler: (change: EngineChange) => void | Promise<void>): void;
}

const KINDS: ReadonlySet<string> = new Set([
  'models',
  'items',
  'events',
  'event-types',
  'rules',
  'knowledge',
  'settings',
  'rankers',
]);

/** Narrows a message from another process to a change, or null when it is not one. */
export function asEngineChange(raw: unknown): EngineChange | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const kind = (raw as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return null;
  if (kind === 'items' && !Array.isArray((raw as { ids?: unknown }).ids)) return null;
  if (kind === 'events' && !Array.isArray((raw as { events?: unknown }).events)) return null;
  return raw as EngineChange;
}
