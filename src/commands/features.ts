import type { Command } from 'commander';
import { printOut } from './output.js';

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('print what this runtime supports, as JSON')
    .action(async () => {
      const { features } = await import('../oci/features.js');
      printOut(JSON.stringify(features(), null, '    ') + '\n');
    });
}
