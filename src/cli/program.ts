import { Command, CommanderError } from 'commander';
import { KindredError } from '../domain/errors.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { importCommand } from './import.js';
import { recommendCommand } from './recommend.js';
import { serveCommand } from './serve.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';
import { trainRankerCommand } from './train-ranker.js';

export function buildProgram(): Command {
  const program = new Command('kindred')
    .description('Kindred: a self-hosted recommendation engine')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of [
    serveCommand(),
    importCommand(),
    trainCommand(),
    trainRankerCommand(),
    evalCommand(),
    recommendCommand(),
    demoCommand(),
    synthCommand(),
  ]) {
    program.addCommand(cmd.exitOverride());
  }
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const message = err instanceof KindredError || err instanceof Error ? err.message : String(err);
    console.error(`kindred: ${message}`);
    return 1;
  }
}
