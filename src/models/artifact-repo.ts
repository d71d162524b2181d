/**
 * Versioned model artifacts on disk: `<dir>/<model name>/<yyyymmddThhmmssZ>-<seq>.kdm`.
 * Versions sort by name in creation order; `seq` (4 digits) tells apart versions saved in
 * the same second. Saving never replaces an existing version.
 */
import { mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { writeArtifact, type SavableRecommender } from './artifact.js';

export interface ArtifactVersion {
  /** Model name. */
  name: string;
  /** `<yyyymmddThhmmssZ>-<seq>`. */
  version: string;
  path: string;
  /** Save time encoded in the version (ms, second precision). */
  savedAt: number;
}

const VERSION_FILE = /^(\d{8}T\d{6}Z)-(\d{4,})\.kdm$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `yyyymmddThhmmssZ` of a date, in UTC. */
export function versionStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

function parseStamp(stamp: string): number {
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
  return Date.parse(iso);
}

export class ArtifactRepository {
  constructor(readonly dir: string) {}

  /** Saves a new version of the model and returns its path. */
  async save(model: SavableRecommender, now: Date = new Date()): Promise<string> {
    const name = model.info.name;
    const folder = this.folder(name);
    mkdirSync(folder, { recursive: true });
    const stamp = versionStamp(now);
    const { header, arrays } = model.toArtifact();
    let seq = 1;
    for (const v of this.versions(name)) {
      if (v.version.startsWith(stamp)) seq = Math.max(seq, Number(v.version.slice(stamp.length + 1)) + 1);
    }
    for (;;) {
      const file = path.join(folder, `${stamp}-${String(seq).padStart(4, '0')}.kdm`);
      try {
        await writeArtifact(file, header, arrays, { overwrite: false });
        return file;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        seq++;
      }
    }
  }

  /** Path of the newest version of the model, null when none is saved. */
  latest(name: string): string | null {
    const versions = this.versions(name);
    return versions.length > 0 ? versions[versions.length - 1].path : null;
  }

  /** Every saved version, by model name then oldest first. */
  list(): ArtifactVersion[] {
    let names: string[];
    try {
      names = readdirSync(this.dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && MODEL_NAME.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.flatMap((n) => this.versions(n));
  }

  /** Versions of one model, oldest first. */
  versions(name: string): ArtifactVersion[] {
    const folder = this.folder(name);
    let files: string[];
    try {
      files = readdirSync(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ArtifactVersion[] = [];
    for (const f of files) {
      const m = VERSION_FILE.exec(f);
      if (!m) continue;
      out.push({ name, version: f.slice(0, -4), path: path.join(folder, f), savedAt: parseStamp(m[1]) });
    }
    return out.sort((a, b) => compareVersions(a.version, b.version));
  }

  /** Deletes all but the newest `keep` versions of the model; returns how many were deleted. */
  prune(name: string, keep: number): number {
    const versions = this.versions(name);
    const doomed = versions.slice(0, Math.max(0, versions.length - Math.max(0, keep)));
    for (const v of doomed) {
      unlinkSync(v.path);
      // What was derived from the version and kept beside it (e.g. its ANN index) goes too.
      const stem = path.basename(v.path, '.kdm');
      const folder = path.dirname(v.path);
      for (const f of readdirSync(folder))
        if (f.startsWith(`${stem}.`)) rmSync(path.join(folder, f), { force: true });
    }
    return doomed.length;
  }

  private folder(name: string): string {
    if (!MODEL_NAME.test(name)) throw new Error(`invalid model name '${name}'`);
    return path.join(this.dir, name);
  }
}

/** Orders `<stamp>-<seq>` by stamp, then numerically by seq. */
function compareVersions(a: string, b: string): number {
  const [sa, qa] = a.split('-');
  const [sb, qb] = b.split('-');
  if (sa !== sb) return sa < sb ? -1 : 1;
  return Number(qa) - Number(qb);
}
