/**
 * Rule sets in one JSON file. The file is read on first use and again whenever it changed on
 * disk (another serving process of the same deployment wrote it); every append rewrites it
 * atomically (temporary file, fsync, rename), so a crash leaves either the old or the new
 * history, never a torn one.
 */
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic-file.js';
import {
  RuleSetHistory,
  type RuleRepository,
  type RuleSetSummary,
  type RuleSetVersion,
} from './repository.js';

const FORMAT = 'kindred-rules';
const FORMAT_VERSION = 1;

interface RuleFile {
  format: typeof FORMAT;
  formatVersion: number;
  placements: Record<string, RuleSetVersion[]>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class FileRuleRepository implements RuleRepository {
  private loaded: RuleSetHistory | undefined;
  /** Identity of the file version `loaded` was read from (inode, mtime, size), '' when absent. */
  private loadedFrom = '';

  constructor(readonly file: string) {}

  private fileVersion(): string {
    const st = statSync(this.file, { throwIfNoEntry: false });
    return st ? `${st.ino}:${st.mtimeMs}:${st.size}` : '';
  }

  private state(): RuleSetHistory {
    const version = this.fileVersion();
    if (this.loaded !== undefined && version === this.loadedFrom) return this.loaded;
    this.loadedFrom = version;
    const history = new RuleSetHistory();
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const data: unknown = JSON.parse(text);
      if (!isRecord(data) || data.format !== FORMAT || !isRecord(data.placements)) {
        throw new Error(`${this.file} is not a Kindred rules file`);
      }
      if (data.formatVersion !== FORMAT_VERSION) {
        throw new Error(
          `${this.file} has rules format version ${String(data.formatVersion)}; expected ${FORMAT_VERSION}`,
        );
      }
      for (const versions of Object.values(data.placements)) {
        if (!Array.isArray(versions)) throw new Error(`${this.file} is not a Kindred rules file`);
        for (const v of versions as RuleSetVersion[]) history.add(v);
      }
    }
    this.loaded = history;
    return history;
  }

  async placements(): Promise<string[]> {
    return this.state().placementNames();
  }

  async latest(placement: string): Promise<RuleSetVersion | undefined> {
    const set = this.state().newest(placement);
    return set === undefined ? undefined : structuredClone(set);
  }

  async get(placement: string, version: number): Promise<RuleSetVersion | undefined> {
    const set = this.state().version(placement, version);
    return set === undefined ? undefined : structuredClone(set);
  }

  async history(placement: string): Promise<RuleSetSummary[]> {
    return this.state().summaries(placement);
  }

  async append(set: RuleSetVersion): Promise<void> {
    const history = this.state();
    const undo = history.add(set);
    const body: RuleFile = { format: FORMAT, formatVersion: FORMAT_VERSION, placements: history.snapshot() };
    try {
      writeFileAtomic(this.file, JSON.stringify(body, null, 2) + '\n');
      this.loadedFrom = this.fileVersion();
    } catch (err) {
      undo();
      throw err;
    }
  }
}
