/**
 * Bidirectional mapping between external string ids and dense indices 0..size-1,
 * assigned in insertion order.
 */
export class IdMap {
  private readonly byId = new Map<string, number>();
  private readonly list: string[] = [];

  constructor(ids?: Iterable<string>) {
    if (ids) for (const id of ids) this.getOrAdd(id);
  }

  /** Number of ids mapped. */
  get size(): number {
    return this.list.length;
  }

  /** Ids by index. */
  get ids(): readonly string[] {
    return this.list;
  }

  /** Index of `id`, or -1 when it is not mapped. */
  index(id: string): number {
    const i = this.byId.get(id);
    return i === undefined ? -1 : i;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Id at `index`; throws RangeError outside 0..size-1. */
  id(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.list.length) {
      throw new RangeError(`index ${index} out of range 0..${this.list.length - 1}`);
    }
    return this.list[index];
  }

  /** Index of `id`, mapping it to the next free index first when it is new. */
  getOrAdd(id: string): number {
    const found = this.byId.get(id);
    if (found !== undefined) return found;
    const i = this.list.length;
    this.byId.set(id, i);
    this.list.push(id);
    return i;
  }
}
