/**
 * `run`: create + start, then (unless detached) wait for the process as its parent, record its exit, delete the
 * container (unless `keep`) and return the exit status: the process's code, or 128 + signal when a signal killed it.
 */
import { constants as osConstants } from 'node:os';
import { recordExit } from '../actors/record-exit.js';
import { PtyRelay } from '../linux/pty-relay.js';
import { loadBundle, type Bundle } from '../oci/config.js';
import { validateId } from '../oci/id.js';
import { exitStatus } from '../linux/proc.js';
import type { OperationContext } from './context.js';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { startContainer } from './start.js';
import type { RunOptions } from './types.js';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

export async function runContainer(ctx: OperationContext, id: string, opts: RunOptions = {}): Promise<number> {
  validateId(id);
  // A foreground run whose process wants a terminal and that got no console socket gives it a new pty, relayed to
  // this process's stdio, as runc does. The bundle is read once, here, when whether to relay depends on it.
  const loaded = opts.detach || opts.consoleSocket ? undefined : loadBundle(opts.bundle ?? process.cwd());
  const relay = loaded?.config.process?.terminal ? PtyRelay.listen(ctx.host.env.ports.sys) : undefined;
  try {
    const status = await runWith(ctx, id, { ...opts, consoleSocket: relay?.socketPath ?? opts.consoleSocket }, relay, loaded);
    await relay?.finish();
    return status;
  } finally {
    relay?.close();
  }
}

async function runWith(ctx: OperationContext, id: string, opts: RunOptions, relay: PtyRelay | undefined, loaded: Bundle | undefined): Promise<number> {
  const created = await createContainer(ctx, id, { ...opts, attached: !opts.detach }, loaded);
  await relay?.attach();
  await startContainer(ctx, id);
  if (opts.detach) return 0;
  const sys = ctx.host.env.ports.sys;
  const forward = (signal: NodeJS.Signals) => {
    try {
      sys.kill(created.pid, osConstants.signals[signal]);
    } catch {
      // not ours to signal any more: the wait below returns
    }
  };
  if (opts.forwardSignals) for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  let status: number;
  try {
    status = exitStatus(await sys.waitPidAsync(created.pid));
  } finally {
    if (opts.forwardSignals) for (const s of FORWARDED_SIGNALS) process.off(s, forward);
  }
  // As the init's parent, the one that has its status (see record-exit.ts); best effort: the delete below records the
  // exit anyway when this write loses.
  await recordExit(ctx.host, ctx.store, id, created.pid, status).catch(() => undefined);
  if (!opts.keep) await deleteContainer(ctx, id, { force: true });
  return status;
}
