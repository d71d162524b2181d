import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WORKER_HEAP_GROWTH_FLAG, loadConfig, workerGcFlags } from '../../src/config.js';

describe('KINDRED_WORKER_GC', () => {
  it('defaults to auto, takes single and parallel, and names itself when invalid', () => {
    expect(loadConfig({}, {}).workerGc).toBe('auto');
    expect(loadConfig({}, { KINDRED_WORKER_GC: 'single' }).workerGc).toBe('single');
    expect(loadConfig({}, { KINDRED_WORKER_GC: 'parallel' }).workerGc).toBe('parallel');
    for (const bad of ['yes', 'SINGLE', '1'])
      expect(() => loadConfig({}, { KINDRED_WORKER_GC: bad })).toThrow(/KINDRED_WORKER_GC/);
  });

  it('collects on the worker thread once every core has a worker, unless told otherwise', () => {
    const single = (flags: string[]) => flags.includes('--single-threaded-gc');
    expect(single(workerGcFlags('auto', 2, 2))).toBe(true);
    expect(single(workerGcFlags('auto', 4, 2))).toBe(true);
    expect(single(workerGcFlags('auto', 2, 8))).toBe(false);
    expect(single(workerGcFlags('single', 2, 8))).toBe(true);
    expect(single(workerGcFlags('parallel', 2, 2))).toBe(false);
  });

  it('lets every worker’s old generation double before a full collection, whatever the threads', () => {
    for (const gc of ['auto', 'single', 'parallel'] as const)
      expect(workerGcFlags(gc, 2, 2)).toContain(WORKER_HEAP_GROWTH_FLAG);
  });

  it('passes only flags this Node accepts', () => {
    const run = (flags: string[]) => spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(run(workerGcFlags('single', 2, 2)).status).toBe(0);
    expect(run(workerGcFlags('parallel', 2, 2)).status).toBe(0);
    // As a misspelt flag would fail:
    expect(run(['--heap-growing-procent=100']).status).not.toBe(0);
  });
});
