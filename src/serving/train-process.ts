/**
 * Training in a separate process: `kindred train` runs as a child on the same store and models
 * folder, so the serving process only loads the new artifacts when it finishes. Nothing of the
 * fit (data reading, matrix building, model fits on the main thread) touches serving.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KindredConfig } from '../config.js';

/** The CLI entry beside this module (compiled `.js`, or TypeScript source run through tsx). */
function cliCommand(): string[] {
  const here = import.meta.url;
  const entry = fileURLToPath(new URL(`../cli/main${here.endsWith('.ts') ? '.ts' : '.js'}`, here));
  return here.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
}

/** The flags that point a child at the same store and data folder. */
export function storeFlags(config: KindredConfig): string[] {
  const flags = ['--data-dir', config.dataDir];
  if (config.store.kind === 'sqlite') flags.push('--store', 'sqlite', '--db', config.store.path);
  else flags.push('--store', 'postgres', '--pg-url', config.store.url, '--pg-schema', config.store.schema);
  return flags;
}

/** Runs `kindred train` for the models in a child process; resolves when it has saved them. */
export function trainInChildProcess(
  config: KindredConfig,
  models: readonly string[],
  log: (line: string) => void = () => undefined,
  options: { evaluate?: boolean } = {},
): Promise<void> {
  const args = [...cliCommand(), 'train', ...storeFlags(config)];
  if (models.length > 0) args.push('--models', models.join(','));
  if (options.evaluate) args.push('--evaluate');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) log(line);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`training process exited with ${code}: ${err.trim().slice(-500)}`)),
    );
  });
}
