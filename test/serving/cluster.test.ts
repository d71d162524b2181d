/**
 * `kindred serve --workers 2`: two serving processes share the port, and a change made through
 * one (a business rule, an item going out of stock, a promoted model) holds on the other from
 * the answer to the change on; `/metrics` counts over both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { Engine } from '../../src/serving/engine.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');

const ITEMS = Array.from({ length: 12 }, (_, i) => ({
  id: `i${i}`,
  title: `Item ${i}`,
  categories: [i < 6 ? 'a' : 'b'],
  attributes: { stock: 10 },
}));

let dir: string;
let server: ChildProcess;
let base: string;

/**
 * One request, on a connection of its own (so that the primary hands it to the next worker) or
 * on the given agent's.
 */
function request(
  method: string,
  url: string,
  body?: unknown,
  agent: http.Agent | false = false,
): Promise<{ status: number; json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${base}${url}`,
      {
        method,
        agent,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON (e.g. /metrics)
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface Rec {
  items: { itemId: string }[];
}

/** The worker behind the agent's connection. */
async function workerOf(agent: http.Agent): Promise<number> {
  return ((await request('GET', '/health', undefined, agent)).json as { worker: number }).worker;
}

/** Sends `n` requests, each on a new connection; returns the answers and the workers that gave them. */
async function spread(n: number, url: string): Promise<{ lists: string[][]; workers: Set<number> }> {
  const lists: string[][] = [];
  const workers = new Set<number>();
  for (let i = 0; i < n; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    workers.add(await workerOf(agent));
    lists.push(((await request('GET', url, undefined, agent)).json as Rec).items.map((it) => it.itemId));
    agent.destroy();
  }
  return { lists, workers };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindred-cluster-'));
  const store = new SqliteStore(path.join(dir, 'kindred.db'));
  await store.init();
  const engine = new Engine(store, path.join(dir, 'models'));
  await engine.start();
  const app = await buildApp({ engine });
  await app.inject({ method: 'POST', url: '/items', payload: ITEMS });
  const events = [];
  let t = 1_700_000_000_000;
  for (let u = 0; u < 20; u++)
    for (let j = 0; j < 4; j++)
      events.push({
        userId: `u${u}`,
        itemId: `i${(u + j * 3) % 12}`,
        type: 'purchase',
        timestamp: (t += 1000),
      });
  await app.inject({ method: 'POST', url: '/events', payload: events });
  expect((await app.inject({ method: 'POST', url: '/models/train', payload: {} })).statusCode).toBe(200);
  // A second popularity version to promote the first one over.
  await new Promise((r) => setTimeout(r, 20));
  const again = await app.inject({
    method: 'POST',
    url: '/models/train',
    payload: { models: ['popularity'] },
  });
  expect(again.statusCode).toBe(200);
  await app.close();
  await engine.close();

  server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--data-dir',
      dir,
      '--port',
      '0',
      '--workers',
      '2',
      // The primary trains once more before it forks the workers.
      '--train',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${out}`)), 60_000);
    server.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) with 2 worker processes/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}, 90_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    await new Promise<void>((resolve) => {
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('kindred serve --workers 2', () => {
  it('answers from both workers on one port', async () => {
    const { lists, workers } = await spread(6, '/recommend/u1?k=5');
    expect([...workers].sort()).toEqual([1, 2]);
    for (const l of lists) expect(l).toHaveLength(5);
  });

  it('a rule written through one worker holds on every worker at once', async () => {
    const put = await request('PUT', '/placements/home/rules', {
      rules: [{ id: 'pin-i11', action: 'pin', where: 'item.id == "i11"', slot: 1 }],
    });
    expect(put.status).toBe(200);
    const { lists, workers } = await spread(6, '/recommend/u1?k=5');
    expect(workers.size).toBe(2);
    expect(lists.map((l) => l[0])).toEqual(lists.map(() => 'i11'));
    await request('PUT', '/placements/home/rules', { rules: [] });
  });

  it('an item out of stock through one worker is never recommended by the other', async () => {
    const before = (await spread(2, '/recommend/u2?k=5')).lists[0];
    const victim = before[0];
    const patched = await request('PATCH', `/items/${victim}`, { available: false });
    expect(patched.status).toBe(200);
    const { lists, workers } = await spread(6, '/recommend/u2?k=5');
    expect(workers.size).toBe(2);
    for (const l of lists) expect(l).not.toContain(victim);
  });

  it('/metrics counts the requests of both workers', async () => {
    const served = async (): Promise<number> => {
      const text = (await request('GET', '/metrics')).text;
      const m = /^recommendations_served_total\{placement="home"\} (\d+)/m.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const start = await served();
    const { workers } = await spread(8, '/recommend/u3?k=3');
    expect(workers.size).toBe(2);
    expect(await served()).toBe(start + 8);
  });

  it('a version promoted through one worker serves on both', async () => {
    const versions = (await request('GET', '/models/versions?name=popularity')).json as {
      versions: { version: string; serving: boolean; info: { trainedAt: string } }[];
    };
    // Two trained here, one by the primary of the server.
    expect(versions.versions).toHaveLength(3);
    const older = versions.versions.find((v) => !v.serving);
    expect(older).toBeDefined();
    const promoted = await request('POST', '/models/popularity/promote', { version: older?.version });
    expect(promoted.status).toBe(200);
    const trainedAt = new Set<string>();
    const workers = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      workers.add(await workerOf(agent));
      const models = (await request('GET', '/models', undefined, agent)).json as {
        models: { name: string; trainedAt: string }[];
      };
      trainedAt.add(models.models.find((m) => m.name === 'popularity')?.trainedAt ?? 'none');
      agent.destroy();
    }
    expect(workers.size).toBe(2);
    expect([...trainedAt]).toEqual([older?.info.trainedAt]);
  });
});
