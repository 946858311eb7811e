import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { GoferError } from '../gofer/errors.js';
import type { RuntimeApi } from '../operations/types.js';
import { withRuntime } from './context.js';

/** "<id>:<path>" → { id, path }; anything without an id prefix is a host path. */
function containerPath(arg: string): { id: string; path: string } | undefined {
  const m = /^([\w+\-.]+):(.*)$/.exec(arg);
  return m ? { id: m[1], path: m[2] || '/' } : undefined;
}

/** A refusal of the gofer ("it is on procfs") worded for cp; other errors as they are. */
function forCp(e: unknown, what: string): unknown {
  if (!(e instanceof GoferError) || e.why === undefined) return e;
  return new GoferError(e.code, `${what}: ${e.why}; runts cp copies regular files only`, { cause: e, why: e.why });
}

/**
 * Copies a file out of the container. Nothing is made on the host before the gofer has accepted the path, and a
 * regular destination is written as a temporary file renamed over it at the end: a refused or failed copy leaves
 * the destination as it was. A destination that is not a regular file (/dev/stdout, a fifo) is written directly.
 */
async function copyOut(rt: RuntimeApi, from: { id: string; path: string }, destination: string): Promise<void> {
  const existing = await stat(destination).catch(() => undefined);
  if (existing?.isDirectory()) throw new GoferError('bad_config', `cannot copy to "${destination}": it is a directory; name the file to write`);
  const chunks = rt.readFileStream(from.id, from.path)[Symbol.asyncIterator]();
  // The first step sends the request and waits for the answer: a refusal throws here, before the host is touched.
  const first = await chunks.next();
  try {
    const all = (async function* () {
      if (!first.done) yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    })();
    const { Readable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    if (existing && !existing.isFile()) {
      await pipeline(Readable.from(all), createWriteStream(destination));
      return;
    }
    // Through a symlink to the file it names, as cp(1) writes through it.
    const target = existing ? await realpath(destination) : destination;
    const temp = join(dirname(target), `.${basename(target)}.runts-cp-${randomBytes(4).toString('hex')}`);
    try {
      await pipeline(Readable.from(all), createWriteStream(temp, { flags: 'wx' }));
      if (existing) await chmod(temp, existing.mode & 0o7777);
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  } finally {
    await chunks.return?.(undefined); // closes the connection should the copy stop early
  }
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
          await copyOut(rt, from, destination).catch((e: unknown) => {
            throw forCp(e, `cannot copy "${source}"`);
          });
        } else if (to && !from) {
          // Opened first: a missing source must not leave an emptied file in the container.
          const file = await open(source, 'r').catch((e: NodeJS.ErrnoException) => {
            throw new GoferError('not_found', `cannot copy "${source}": it cannot be opened on the host (${e.code ?? e.message})`);
          });
          try {
            await rt.writeFile(to.id, to.path, file.createReadStream({ autoClose: false })).catch((e: unknown) => {
              throw forCp(e, `cannot copy to "${destination}"`);
            });
          } finally {
            await file.close();
          }
        } else {
          throw new Error('cp copies between a container and the host: give exactly one <id>:<path>');
        }
      });
    });
}
