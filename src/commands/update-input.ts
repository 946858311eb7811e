import { readFileSync } from 'node:fs';
import { stdinFd } from '../cli-io.js';
import { RuntsError } from '../errors.js';
import { parseJsonFile } from '../oci/config.js';
import type { LinuxResources } from '../oci/types.js';

export class UpdateInputError extends RuntsError {}

/** Sizes as runc takes them: bytes, or with a k/m/g/t suffix (powers of 1024); -1 means unlimited. */
export function parseBytes(flag: string, text: string): number {
  const m = /^(-1|\d+)([kmgt]?)b?$/i.exec(text.trim());
  if (!m) throw new UpdateInputError('bad_config', `invalid ${flag} "${text}": use bytes or a size like 64m`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return m[1] === '-1' ? -1 : Number(m[1]) * unit;
}

function parseInt64(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new UpdateInputError('bad_config', `invalid ${flag} "${text}": use a whole number`);
  return Number(text);
}

/** `update`'s flags (or its -r file) as an OCI resources block holding only what changes. */
export function resourcesFromFlags(o: Record<string, string | undefined>): LinuxResources {
  let r: LinuxResources = {};
  if (o.resources) {
    const text = readFileSync(o.resources === '-' ? stdinFd() : o.resources, 'utf8');
    const parsed = parseJsonFile(text, o.resources === '-' ? 'stdin' : o.resources);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UpdateInputError('bad_config', `${o.resources}: expected a JSON object of OCI linux.resources`);
    }
    r = parsed as LinuxResources;
  }
  const memory = { ...r.memory };
  if (o.memory) memory.limit = parseBytes('--memory', o.memory);
  if (o.memoryReservation) memory.reservation = parseBytes('--memory-reservation', o.memoryReservation);
  if (o.memorySwap) memory.swap = parseBytes('--memory-swap', o.memorySwap);
  const cpu = { ...r.cpu };
  if (o.cpuQuota) cpu.quota = parseInt64('--cpu-quota', o.cpuQuota);
  if (o.cpuPeriod) cpu.period = parseInt64('--cpu-period', o.cpuPeriod);
  // runc's flag is --cpu-share; --cpu-shares is kept as an alias.
  const shares = o.cpuShare ?? o.cpuShares;
  if (shares) cpu.shares = parseInt64(o.cpuShare ? '--cpu-share' : '--cpu-shares', shares);
  if (o.cpuRtPeriod) cpu.realtimePeriod = parseInt64('--cpu-rt-period', o.cpuRtPeriod);
  if (o.cpuRtRuntime) cpu.realtimeRuntime = parseInt64('--cpu-rt-runtime', o.cpuRtRuntime);
  if (o.cpusetCpus) cpu.cpus = o.cpusetCpus;
  if (o.cpusetMems) cpu.mems = o.cpusetMems;
  if (Object.keys(memory).length) r.memory = memory;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (o.pidsLimit) r.pids = { limit: parseInt64('--pids-limit', o.pidsLimit) };
  if (o.blkioWeight) r.blockIO = { ...r.blockIO, weight: parseInt64('--blkio-weight', o.blkioWeight) };
  if (Object.keys(r).length === 0) throw new UpdateInputError('bad_config', 'update changes nothing: pass a flag such as --memory, or -r resources.json');
  return r;
}
