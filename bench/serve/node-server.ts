/**
 * Runs `kindred <args>` in its own process like bench/server-process.ts, with extra Node flags
 * before the script (e.g. --cpu-prof, which NODE_OPTIONS does not accept), and waits for a path
 * to answer 200.
 */
import { spawn } from 'node:child_process';
import { CLI, type ServerProcess } from '../server-process.js';

export async function startNodeServer(
  args: string[],
  port: number,
  nodeFlags: string[],
  /** Ready once `path` answers 200 and, when given, what the server printed satisfies `output`. */
  wait: { path: string; timeoutMs: number; output?: (printed: string) => boolean },
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, CLI, ...args, '--port', String(port), '--log-level', 'silent'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}${wait.path}`);
      if (res.ok && (wait.output === undefined || wait.output(output))) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready within ${wait.timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
