import type { Recommender } from '../models/model.js';

/**
 * The models serving together, with shared lookups built once per swap: id → index maps
 * and the availability mask over the item universe of each model.
 */
export class ServingModel {
  readonly itemIndex: Map<string, number>;
  /** 1 where the item must never be recommended (unavailable or deleted). */
  readonly blocked: Uint8Array;
  /** Per-request scratch buffers, reused: serving is single-threaded per process. */
  readonly scores: Float32Array;
  readonly mask: Uint8Array;

  constructor(readonly model: Recommender) {
    const ids = model.itemIds;
    this.itemIndex = new Map();
    for (let i = 0; i < ids.length; i++) this.itemIndex.set(ids[i], i);
    this.blocked = new Uint8Array(ids.length);
    this.scores = new Float32Array(ids.length);
    this.mask = new Uint8Array(ids.length);
  }

  get name(): string {
    return this.model.info.name;
  }

  setBlocked(itemId: string, blocked: boolean): void {
    const i = this.itemIndex.get(itemId);
    if (i !== undefined) this.blocked[i] = blocked ? 1 : 0;
  }
}

export class ModelSet {
  private readonly byName = new Map<string, ServingModel>();

  constructor(models: Recommender[], unavailableItemIds: Iterable<string>) {
    for (const m of models) this.byName.set(m.info.name, new ServingModel(m));
    for (const id of unavailableItemIds) this.setAvailable(id, false);
  }

  get(name: string): ServingModel | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  all(): ServingModel[] {
    return [...this.byName.values()];
  }

  setAvailable(itemId: string, available: boolean): void {
    for (const m of this.byName.values()) m.setBlocked(itemId, !available);
  }
}
