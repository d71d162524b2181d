import { describe, expect, it } from 'vitest';
import { loadConfig, workerGcFlags } from '../../src/config.js';

describe('KINDRED_WORKER_GC', () => {
  it('defaults to auto, takes single and parallel, and names itself when invalid', () => {
    expect(loadConfig({}, {}).workerGc).toBe('auto');
    expect(loadConfig({}, { KINDRED_WORKER_GC: 'single' }).workerGc).toBe('single');
    expect(loadConfig({}, { KINDRED_WORKER_GC: 'parallel' }).workerGc).toBe('parallel');
    for (const bad of ['yes', 'SINGLE', '1'])
      expect(() => loadConfig({}, { KINDRED_WORKER_GC: bad })).toThrow(/KINDRED_WORKER_GC/);
  });

  it('collects on the worker thread once every core has a worker, unless told otherwise', () => {
    expect(workerGcFlags('auto', 2, 2)).toEqual(['--single-threaded-gc']);
    expect(workerGcFlags('auto', 4, 2)).toEqual(['--single-threaded-gc']);
    expect(workerGcFlags('auto', 2, 8)).toEqual([]);
    expect(workerGcFlags('single', 2, 8)).toEqual(['--single-threaded-gc']);
    expect(workerGcFlags('parallel', 2, 2)).toEqual([]);
  });
});
