import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes, formatCount } from '../../src/ingest/progress.js';

function sink(): { stream: Writable & { isTTY?: boolean }; text(): string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return { stream, text: () => out };
}

describe('createProgress', () => {
  it('prints plain lines when the stream is not a terminal', () => {
    const out = sink();
    const p = createProgress({
      total: 2 * 1024 * 1024,
      unit: 'bytes',
      label: 'u.data',
      stream: out.stream,
      intervalMs: 0,
    });
    p.update(1024 * 1024);
    p.stop('100,000 imported');
    const lines = out.text().trimEnd().split('\n');
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^u\.data: 1\.0 MB of 2\.0 MB \(50%\), .*\/s, \d+\.\d s$/);
    expect(lines[1]).toMatch(/^u\.data: 1\.0 MB of 2\.0 MB \(50%\), .* 100,000 imported$/);
  });

  it('waits for the interval between lines', () => {
    const out = sink();
    const p = createProgress({ total: 10, unit: 'users', stream: out.stream, intervalMs: 60_000 });
    for (let i = 0; i < 10; i++) p.increment();
    p.stop();
    expect(out.text()).toMatch(/^10 users of 10 users \(100%\), .* done\n$/);
  });

  it('prints nothing when silent', () => {
    const out = sink();
    const p = createProgress({ total: 10, silent: true, stream: out.stream, intervalMs: 0 });
    p.update(5);
    p.stop('x');
    expect(out.text()).toBe('');
  });

  it('draws a bar when asked', () => {
    const out = sink();
    const p = createProgress({ total: 4, unit: 'rows', label: 'items', stream: out.stream, mode: 'bar' });
    p.update(4);
    p.stop('4 imported');
    expect(out.text()).toContain('items: [');
    expect(out.text()).toContain('4 rows / 4 rows');
    expect(out.text()).toContain('4 imported');
  });
});

describe('formatting', () => {
  it('formats bytes and counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(250 * 1024 * 1024)).toBe('250 MB');
    expect(formatCount(1234567.4)).toBe('1,234,567');
  });
});
