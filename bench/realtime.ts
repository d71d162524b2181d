/**
 * Real-time loop on the sample shop (`kindred demo` in its own process):
 *
 *   1. from event acknowledgement to the change being visible: a user is served a list, buys its
 *      first item (POST /events), and asks again until that item is gone; the time from the
 *      acknowledgement to the first answer without it (p50, p99 over 300 users);
 *   2. event ingestion over HTTP with the pipeline serving real-time updates: batches of 1,000
 *      events from 4 concurrent clients, events acknowledged per second.
 *
 *   node dist/bench/realtime.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { percentile } from './load.js';
import { startServerProcess } from './server-process.js';

const PORT = 18_481;
const ROUNDS = 300;

interface Rec {
  items: { itemId: string }[];
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kindred-realtime-'));
  const server = await startServerProcess(['demo', '--data-dir', dir], PORT, {
    path: '/ready',
    timeoutMs: 300_000,
  });
  const figures: [string, string][] = [];
  try {
    const url = server.url;
    const users = (await json<{ users: { id: string }[] }>(await fetch(`${url}/users?limit=1000`))).users.map(
      (u) => u.id,
    );
    // Warm-up.
    for (let i = 0; i < 200; i++) await fetch(`${url}/recommend/${users[i % users.length]}?k=10`);

    console.log(`1. acknowledgement to visibility, ${ROUNDS} users`);
    const visible = new Float64Array(ROUNDS);
    let polls = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const user = users[(r * 7919) % users.length];
      const before = await json<Rec>(await fetch(`${url}/recommend/${user}?k=10`));
      const bought = before.items[0]?.itemId;
      if (!bought) throw new Error(`no recommendation for ${user}`);
      const ack = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ userId: user, itemId: bought, type: 'purchase' }]),
      });
      if (!ack.ok) throw new Error(`event rejected: ${await ack.text()}`);
      const acked = performance.now();
      for (;;) {
        polls++;
        const after = await json<Rec>(await fetch(`${url}/recommend/${user}?k=10`));
        if (!after.items.some((i) => i.itemId === bought)) break;
        if (performance.now() - acked > 5000)
          throw new Error(`${bought} still recommended to ${user} after 5 s`);
      }
      visible[r] = performance.now() - acked;
    }
    visible.sort();
    figures.push([
      'event acknowledged → change visible in /recommend',
      `p50 ${percentile(visible, 0.5).toFixed(2)} ms, p99 ${percentile(visible, 0.99).toFixed(2)} ms, max ${visible[ROUNDS - 1].toFixed(2)} ms; ${polls} requests for ${ROUNDS} changes (${polls === ROUNDS ? 'every change visible in the first request after the acknowledgement' : 'some needed a retry'})`,
    ]);

    console.log('2. HTTP ingestion with real-time serving');
    const items = (await json<{ items: { id: string }[] }>(await fetch(`${url}/items?limit=1000`))).items.map(
      (i) => i.id,
    );
    const batches = 200;
    const size = 1000;
    let sent = 0;
    let acked = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let b = w; b < batches; b += 4) {
          const rows = Array.from({ length: size }, (_, j) => ({
            userId: users[(b * size + j) % users.length],
            itemId: items[(b * 31 + j * 7) % items.length],
            type: 'view',
          }));
          sent += size;
          const res = await json<{ accepted: number }>(
            await fetch(`${url}/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(rows),
            }),
          );
          acked += res.accepted;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    figures.push([
      'HTTP ingestion, 1,000 events a request, 4 clients, real-time serving on',
      `${Math.round(acked / seconds).toLocaleString('en-US')} events/s; ${acked.toLocaleString('en-US')} acknowledged of ${sent.toLocaleString('en-US')} sent`,
    ]);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| figure | value |\n|---|---|');
  for (const [k, v] of figures) console.log(`| ${k} | ${v} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
