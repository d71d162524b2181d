import { Command } from 'commander';
import { collectParam, configFrom, openEngine, withStoreOptions, type StoreFlags } from './common.js';

export function trainCommand(): Command {
  return withStoreOptions(new Command('train'))
    .description('train models from the store and save them as versioned artifacts')
    .option('--models <names>', 'comma-separated model names (default: popularity,trending,item-knn)')
    .option(
      '--param <model.key=value>',
      'a model setting, repeatable (e.g. item-knn.neighbours=50)',
      collectParam,
    )
    .option('--ignore-saved-settings', 'train with the defaults, not the settings a search saved')
    .option('--evaluate', "also measure each model on every user's latest interaction (kept in the registry)")
    .action(
      async (
        flags: StoreFlags & {
          models?: string;
          ignoreSavedSettings?: boolean;
          evaluate?: boolean;
          param?: Record<string, Record<string, number | string | boolean>>;
        },
      ) => {
        const engine = await openEngine(configFrom(flags));
        try {
          const models = flags.models
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          const trained = await engine.train({
            models,
            params: flags.param,
            ignoreSavedSettings: flags.ignoreSavedSettings,
            evaluate: flags.evaluate,
            progress: (m) => console.log(m),
          });
          for (const m of trained) {
            const i = m.info;
            console.log(
              `${i.name}: ${i.users} users, ${i.items} items, ${i.interactions} interactions, fit ${i.fitSeconds.toFixed(2)} s`,
            );
          }
        } finally {
          await engine.close();
        }
      },
    );
}
