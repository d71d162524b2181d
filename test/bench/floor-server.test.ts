import { describe, expect, it } from 'vitest';
import { startFloorServer } from '../../bench/serve/floor-server.js';

describe('the floor server of the serving benchmark', () => {
  it('answers every path with the given bytes from each worker, and stops', async () => {
    const body = JSON.stringify({ items: [{ itemId: 'é-1', score: 0.5 }], note: 'x'.repeat(100) });
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = await startFloorServer(2, port, body);
    try {
      for (const path of ['/recommend/1?placement=home&k=10', '/anything']) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
        expect(await res.text()).toBe(body);
      }
    } finally {
      await server.stop();
    }
    expect(server.child.exitCode !== null || server.child.signalCode !== null).toBe(true);
    await expect(fetch(`${server.url}/`)).rejects.toThrow();
  });

  it('refuses a worker count that is not a positive integer', () => {
    expect(() => startFloorServer(0, 20_001, '{}')).toThrow(/workers must be a positive integer/);
  });
});
