import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { printErr } from './output.js';
import { setExitCode } from '../cli-io.js';

export function registerSpec(program: Command): void {
  program
    .command('spec')
    .description('write a default config.json into the bundle directory')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--rootless', 'a config for a rootless container')
    .action(async (opts) => {
      const { defaultSpec } = await import('../oci/default-spec.js');
      const file = join(opts.bundle, 'config.json');
      if (existsSync(file)) {
        printErr(`runts: ${file} already exists: remove it first, or pass another --bundle\n`);
        setExitCode(1);
        return;
      }
      writeFileSync(file, JSON.stringify(defaultSpec({ rootless: opts.rootless === true }), null, '\t') + '\n', { mode: 0o666 });
    });
}
