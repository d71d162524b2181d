/**
 * The registry of trained model versions: beside every artifact (`<name>/<version>.kdm`) a card
 * (`<version>.json`) records the data snapshot it was trained on, its settings and, when the run
 * measured them, its offline metrics. One version per family is promoted (`promoted.json`);
 * without a promotion the newest version serves. Promote, roll back and compare work on the cards.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { ArtifactRepository, ArtifactVersion } from './artifact-repo.js';
import type { ModelInfo } from './model.js';

/** What the model was trained on. */
export interface DataSnapshot {
  /** Positive events read. */
  events: number;
  users: number;
  items: number;
  interactions: number;
  /** Time of the newest event read (ms), null when there was none. */
  lastEventTime: number | null;
}

export interface ModelCard {
  name: string;
  version: string;
  savedAt: number;
  info: ModelInfo;
  snapshot: DataSnapshot;
  /** Offline metrics measured when the run asked for them (e.g. `ndcg@10` on a holdout). */
  metrics: Record<string, number>;
}

export interface RegisteredVersion extends ModelCard {
  promoted: boolean;
  /** Serving now: the promoted version, else the newest. */
  serving: boolean;
}

function cardPath(v: ArtifactVersion): string {
  return v.path.replace(/\.kdm$/, '.json');
}

export class ModelRegistry {
  constructor(readonly repo: ArtifactRepository) {}

  private get promotedFile(): string {
    return path.join(this.repo.dir, 'promoted.json');
  }

  /** Writes the card of a saved artifact. */
  writeCard(
    artifactPath: string,
    info: ModelInfo,
    snapshot: DataSnapshot,
    metrics: Record<string, number> = {},
  ): void {
    const card = { info, snapshot, metrics };
    writeFileAtomic(artifactPath.replace(/\.kdm$/, '.json'), JSON.stringify(card, null, 2) + '\n');
  }

  private card(v: ArtifactVersion): ModelCard | null {
    const file = cardPath(v);
    if (!existsSync(file)) return null;
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Omit<ModelCard, 'name' | 'version' | 'savedAt'>;
    return { name: v.name, version: v.version, savedAt: v.savedAt, ...raw };
  }

  private promotions(): Record<string, string> {
    if (!existsSync(this.promotedFile)) return {};
    return JSON.parse(readFileSync(this.promotedFile, 'utf8')) as Record<string, string>;
  }

  /** Versions of one family (or of all), oldest first, with their cards where they have one. */
  versions(name?: string): RegisteredVersion[] {
    const promoted = this.promotions();
    const all = name ? this.repo.versions(name) : this.repo.list();
    const out: RegisteredVersion[] = [];
    for (const v of all) {
      const card = this.card(v);
      if (!card) continue;
      out.push({ ...card, promoted: promoted[v.name] === v.version, serving: false });
    }
    for (const family of new Set(out.map((v) => v.name))) {
      const serving = this.servingVersion(family);
      for (const v of out) if (v.name === family && v.version === serving) v.serving = true;
    }
    return out;
  }

  /** The version that serves: the promoted one when it still exists, else the newest. */
  servingVersion(name: string): string | null {
    const all = this.repo.versions(name);
    const promoted = this.promotions()[name];
    if (promoted && all.some((v) => v.version === promoted)) return promoted;
    return all.length > 0 ? all[all.length - 1].version : null;
  }

  /** Path of the artifact that serves for the family, null when none is saved. */
  servingPath(name: string): string | null {
    const version = this.servingVersion(name);
    return version ? (this.repo.versions(name).find((v) => v.version === version)?.path ?? null) : null;
  }

  /** Pins the version that serves for a family. */
  promote(name: string, version: string): string {
    const v = this.repo.versions(name).find((x) => x.version === version);
    if (!v) throw new NotFoundError(`version of ${name}`, version);
    const promoted = this.promotions();
    promoted[name] = version;
    writeFileAtomic(this.promotedFile, JSON.stringify(promoted, null, 2) + '\n');
    return v.path;
  }

  /** Promotes the version before the one serving now; returns its path. */
  rollback(name: string): string {
    const all = this.repo.versions(name);
    const at = all.findIndex((v) => v.version === this.servingVersion(name));
    if (at <= 0) throw new ValidationError(`${name} has no earlier version to roll back to`);
    return this.promote(name, all[at - 1].version);
  }

  /** Forgets a promotion: the newest version serves again. */
  unpin(name: string): void {
    const promoted = this.promotions();
    delete promoted[name];
    writeFileAtomic(this.promotedFile, JSON.stringify(promoted, null, 2) + '\n');
  }

  /** Two versions side by side: settings that differ, snapshots and metrics with their differences. */
  compare(
    name: string,
    a: string,
    b: string,
  ): {
    a: ModelCard;
    b: ModelCard;
    paramsChanged: string[];
    metricDeltas: Record<string, number>;
  } {
    const find = (version: string): ModelCard => {
      const v = this.repo.versions(name).find((x) => x.version === version);
      const card = v ? this.card(v) : null;
      if (!card) throw new NotFoundError(`version of ${name}`, version);
      return card;
    };
    const ca = find(a);
    const cb = find(b);
    const keys = new Set([...Object.keys(ca.info.params), ...Object.keys(cb.info.params)]);
    const paramsChanged = [...keys].filter((k) => ca.info.params[k] !== cb.info.params[k]).sort();
    const metricDeltas: Record<string, number> = {};
    for (const m of Object.keys(ca.metrics))
      if (m in cb.metrics) metricDeltas[m] = cb.metrics[m] - ca.metrics[m];
    return { a: ca, b: cb, paramsChanged, metricDeltas };
  }
}
