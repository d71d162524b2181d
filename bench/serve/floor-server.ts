/**
 * The machine's floor under a serving p99: a bare node:http server in its own process, with as
 * many cluster workers as the real server, answering every GET with the same bytes at once (no
 * routing, no pipeline, no store). Measured with the same open-loop generator at the same rate,
 * its latencies are what this machine allows any Node server of that shape; what the real
 * server adds on top is its own.
 */
import { spawn } from 'node:child_process';
import type { ServerProcess } from '../server-process.js';

/** The floor server's program: argv = [workers, port, body]. */
const PROGRAM = `
const cluster = require('node:cluster');
const http = require('node:http');
const [workers, port, body] = process.argv.slice(1);
if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < Number(workers); i++) cluster.fork().on('listening', () => {
    if (++listening === Number(workers)) process.stdout.write('listening\\n');
  });
  process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
} else {
  const bytes = Buffer.from(body);
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length };
  http.createServer((req, res) => { res.writeHead(200, headers); res.end(bytes); }).listen(Number(port), '127.0.0.1');
}
`;

/** Starts the floor server; resolves once every worker listens. */
export function startFloorServer(workers: number, port: number, body: string): Promise<ServerProcess> {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const child = spawn(process.execPath, ['-e', PROGRAM, String(workers), String(port), body], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    let printed = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the floor server did not listen within 10 s'));
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the floor server exited with ${code}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      printed += d.toString();
      if (printed.includes('listening')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(server);
      }
    });
  });
}
