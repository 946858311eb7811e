import type { Command } from 'commander';

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('print what this runtime supports, as JSON')
    .action(async () => {
      const { features } = await import('../oci/features.js');
      process.stdout.write(JSON.stringify(features(), null, '    ') + '\n');
    });
}
