import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { parseExperiment } from '../eval/experiment-spec.js';
import { runExperiment } from '../eval/experiment.js';
import { writeReport } from '../eval/report/html.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { configFrom, openEngine, withStoreOptions, type StoreFlags } from './common.js';

export function evalCommand(): Command {
  return withStoreOptions(new Command('eval'))
    .description(
      'run a declared experiment (data, split, models and settings searches) and write JSON results and an HTML report',
    )
    .argument('<experiment>', 'experiment file (JSON); see docs/evaluation.md')
    .option('--out <dir>', 'where results.json and report.html go (default: eval-results/<experiment name>)')
    .option('--no-save-settings', 'do not save the settings a search chose for `kindred train`')
    .option('--quiet', 'print only the summary')
    .action(
      async (file: string, flags: StoreFlags & { out?: string; saveSettings: boolean; quiet?: boolean }) => {
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          throw new ValidationError(`cannot read experiment ${file}: ${(err as Error).message}`);
        }
        const experiment = parseExperiment(raw, path.dirname(path.resolve(file)));
        const config = configFrom(flags);
        const slug =
          experiment.name
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '-')
            .replace(/^-|-$/g, '') || 'experiment';
        const out = path.resolve(flags.out ?? path.join('eval-results', slug));
        const log = flags.quiet ? () => undefined : (m: string) => console.log(m);

        const controller = new AbortController();
        const stop = (): void => {
          if (controller.signal.aborted) process.exit(130);
          console.error(
            'kindred eval: interrupted; finishing the current step (press Ctrl-C again to quit at once)',
          );
          controller.abort();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        const engine = experiment.data.kind === 'store' ? await openEngine(config) : null;
        try {
          const result = await runExperiment(experiment, {
            store: engine?.store,
            modelsDir: flags.saveSettings ? config.modelsDir : null,
            log,
            signal: controller.signal,
            checkpoint: (partial) =>
              writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(partial, null, 2) + '\n'),
          });
          writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(result, null, 2) + '\n');
          await writeReport(result, path.join(out, 'report.html'));
          console.log(summaryTable(result));
          console.log(
            `results: ${path.join(out, 'results.json')}\nreport:  ${path.join(out, 'report.html')}`,
          );
          if (controller.signal.aborted)
            throw new Error('interrupted: the files hold the runs finished so far');
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          await engine?.close();
        }
      },
    );
}

function summaryTable(result: import('../eval/experiment-result.js').ExperimentResult): string {
  const k = String(result.protocol.mainK);
  const metrics = ['precision', 'recall', 'ndcg', 'map'];
  const lines = [
    `| model | ${metrics.map((m) => `${m}@${k}`).join(' | ')} | fit s |`,
    `|---|${metrics.map(() => '---').join('|')}|---|`,
  ];
  for (const r of result.runs) {
    const cells = metrics.map((m) => r.atK[m]?.[k]?.mean.toFixed(4) ?? '-');
    lines.push(`| ${r.label} | ${cells.join(' | ')} | ${r.fitSeconds.toFixed(2)} |`);
  }
  return lines.join('\n');
}
