import { createReadStream, createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { withRuntime } from './context.js';

/** "<id>:<path>" → { id, path }; anything without an id prefix is a host path. */
function containerPath(arg: string): { id: string; path: string } | undefined {
  const m = /^([\w+\-.]+):(.*)$/.exec(arg);
  return m ? { id: m[1], path: m[2] || '/' } : undefined;
}

export function registerCp(program: Command): void {
  program
    .command('cp')
    .description('copy a file out of a container (<id>:<path> <hostpath>) or into it (<hostpath> <id>:<path>)')
    .argument('<source>')
    .argument('<destination>')
    .action(async (source: string, destination: string, _opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const from = containerPath(source);
        const to = containerPath(destination);
        if (from && !to) {
          const { Readable } = await import('node:stream');
          const { pipeline } = await import('node:stream/promises');
          await pipeline(Readable.from(rt.readFileStream(from.id, from.path)), createWriteStream(destination));
        } else if (to && !from) {
          await rt.writeFile(to.id, to.path, createReadStream(source));
        } else {
          throw new Error('cp copies between a container and the host: give exactly one <id>:<path>');
        }
      });
    });
}
