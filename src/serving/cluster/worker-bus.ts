/**
 * The change bus of a worker process of a multi-process server: changes go to the primary over
 * the IPC channel, which hands them to every other worker (see primary.ts).
 */
import { asEngineChange, type ChangeBus, type EngineChange } from './changes.js';
import { isMetricsResponse, METRICS_REQUEST, type MetricsRequest } from './messages.js';

/** A change on its way from a worker to the others, through the primary. */
export const CHANGE_MESSAGE = 'kindred:change';
/** A worker applied another worker's change. */
export const CHANGE_APPLIED = 'kindred:change-applied';
/** Every other worker applied a worker's change. */
export const CHANGE_DONE = 'kindred:change-done';

export interface ChangeMessage {
  type: typeof CHANGE_MESSAGE;
  /** Numbers the publishing worker's changes. */
  id: number;
  /** The publishing worker (cluster worker id), set by the primary when it relays. */
  origin?: number;
  change: EngineChange;
}

export interface ChangeAck {
  type: typeof CHANGE_APPLIED | typeof CHANGE_DONE;
  id: number;
  origin?: number;
}

export function isChangeMessage(raw: unknown): raw is ChangeMessage {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { type?: unknown }).type === CHANGE_MESSAGE &&
    typeof (raw as { id?: unknown }).id === 'number' &&
    asEngineChange((raw as { change?: unknown }).change) !== null
  );
}

export function isChangeAck(raw: unknown, type: ChangeAck['type']): raw is ChangeAck {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { type?: unknown }).type === type &&
    typeof (raw as { id?: unknown }).id === 'number'
  );
}

/** How long a publisher waits for the other workers by default. */
const APPLY_TIMEOUT_MS = 120_000;

export class WorkerBus implements ChangeBus {
  private next = 1;
  private readonly waiting = new Map<number, () => void>();

  constructor(
    private readonly channel: NodeJS.Process = process,
    private readonly timeoutMs = APPLY_TIMEOUT_MS,
  ) {
    if (typeof channel.send !== 'function')
      throw new Error('a worker bus needs an IPC channel to the primary');
    channel.on('message', (raw: unknown) => {
      if (isChangeAck(raw, CHANGE_DONE)) this.waiting.get(raw.id)?.();
    });
  }

  publish(change: EngineChange): Promise<void> {
    const id = this.next++;
    const message: ChangeMessage = { type: CHANGE_MESSAGE, id, change };
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        console.error(
          `a ${change.kind} change was not confirmed by every worker within ${this.timeoutMs} ms`,
        );
        finish();
      }, this.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve();
      };
      this.waiting.set(id, finish);
      try {
        this.channel.send?.(message, undefined, undefined, (err: Error | null) => {
          if (!err) return;
          console.error(`change not sent to the other workers: ${err.message}`);
          finish();
        });
      } catch (err) {
        console.error(`change not sent to the other workers: ${(err as Error).message}`);
        finish();
      }
    });
  }

  subscribe(handler: (change: EngineChange) => void | Promise<void>): void {
    this.channel.on('message', (raw: unknown) => {
      if (!isChangeMessage(raw)) return;
      Promise.resolve()
        .then(() => handler(raw.change))
        .catch((err: unknown) =>
          console.error(`applying a change from another worker failed: ${(err as Error).message}`),
        )
        .finally(() => {
          const ack: ChangeAck = { type: CHANGE_APPLIED, id: raw.id, origin: raw.origin };
          this.channel.send?.(ack);
        });
    });
  }
}

/**
 * The metrics of every worker summed, asked of the primary (which collects them from each
 * worker's registry); rejects after `timeoutMs`.
 */
export function clusterMetricsText(channel: NodeJS.Process = process, timeoutMs = 8000): Promise<string> {
  const id = nextRequest++;
  return new Promise<string>((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      if (!isMetricsResponse(raw) || raw.id !== id) return;
      done();
      if (raw.text !== undefined) resolve(raw.text);
      else reject(new Error(`metrics of the other workers: ${raw.error ?? 'no answer'}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`metrics of the other workers: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      channel.off('message', onMessage);
    };
    channel.on('message', onMessage);
    const request: MetricsRequest = { type: METRICS_REQUEST, id };
    channel.send?.(request);
  });
}

let nextRequest = 1;
