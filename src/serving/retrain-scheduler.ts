/**
 * Retrains on a schedule: every `intervalMs`, and/or once `afterEvents` new events have been
 * acknowledged since the last run. One run at a time; the heavy fits run on worker threads and
 * the new models are swapped in when ready, so serving goes on meanwhile.
 */
export interface RetrainPolicy {
  intervalMs?: number;
  afterEvents?: number;
  /** How often the event count is checked (default 1 s). */
  checkEveryMs?: number;
}

export interface RetrainTarget {
  readonly isTraining: boolean;
  train(request: { progress?: (message: string) => void; evaluate?: boolean }): Promise<unknown>;
}

export class RetrainScheduler {
  private eventsSince = 0;
  private lastRun: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Completed runs and the last error, for the API and tests. */
  runs = 0;
  lastError: string | null = null;

  constructor(
    private readonly target: RetrainTarget,
    readonly policy: RetrainPolicy,
    private readonly log: (message: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (policy.intervalMs !== undefined && !(policy.intervalMs > 0))
      throw new RangeError('intervalMs must be positive');
    if (policy.afterEvents !== undefined && !(Number.isInteger(policy.afterEvents) && policy.afterEvents > 0))
      throw new RangeError('afterEvents must be a positive integer');
    this.lastRun = now();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.policy.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Counts acknowledged events towards `afterEvents`. */
  eventsAcknowledged(n: number): void {
    this.eventsSince += n;
  }

  /** Whether a run is due now. */
  due(): boolean {
    const byEvents = this.policy.afterEvents !== undefined && this.eventsSince >= this.policy.afterEvents;
    const byTime =
      this.policy.intervalMs !== undefined && this.now() - this.lastRun >= this.policy.intervalMs;
    return byEvents || byTime;
  }

  /** Starts a run when one is due and none is going; resolves when that run ends. */
  async tick(): Promise<void> {
    if (this.running || this.target.isTraining || !this.due()) return;
    const reason =
      this.eventsSince >= (this.policy.afterEvents ?? Infinity)
        ? `${this.eventsSince} new events`
        : 'interval';
    this.eventsSince = 0;
    this.lastRun = this.now();
    this.log(`scheduled retraining (${reason})`);
    this.running = this.target
      .train({ progress: this.log })
      .then(
        () => {
          this.runs++;
          this.lastError = null;
        },
        (err: unknown) => {
          this.lastError = err instanceof Error ? err.message : String(err);
          this.log(`scheduled retraining failed: ${this.lastError}`);
        },
      )
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }
}
