import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DriftMonitor } from '../../src/monitoring/drift.js';
import { loadDriftReference, saveDriftReference } from '../../src/monitoring/drift-reference-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kindred-drift-ref-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const events = Array.from({ length: 400 }, (_, k) => ({
  userId: `u${k % 37}`,
  itemId: `i${(k * k) % 23}`,
  type: k % 9 === 0 ? 'click' : k % 3 === 0 ? 'impression' : 'view',
  timestamp: T0 + k * 60_000,
}));

describe('drift reference file', () => {
  it('reads back exactly what was written, and checks come out the same', () => {
    const a = new DriftMonitor();
    const ref = a.setReferenceFromEvents(events);
    const file = path.join(dir, 'drift-reference.json');
    saveDriftReference(file, ref);
    const back = loadDriftReference(file);
    expect(back).toEqual(ref);
    const b = new DriftMonitor();
    b.setReference(back as NonNullable<typeof back>);
    const live = events.slice(0, 150).map((e, k) => ({ ...e, itemId: `i${k % 4}` }));
    a.observeEvents(live, T0);
    b.observeEvents(live, T0);
    expect(b.check(T0).checks).toEqual(a.check(T0).checks);
  });

  it('is null when absent and names the file when it is not a reference', () => {
    expect(loadDriftReference(path.join(dir, 'none.json'))).toBeNull();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"format":"other"}');
    expect(() => loadDriftReference(bad)).toThrow(/bad\.json is not a Kindred drift reference/);
  });
});
