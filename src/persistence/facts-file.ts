/**
 * The container's facts, kept in its state directory (`<root>/<id>/facts.json`) as well as in the store: runc keeps
 * its `state.json` there for the same reason. They are what `runts repair` rebuilds a damaged store from — the
 * processes, cgroup and directory of a container exist whatever happens to the database, and this file says
 * where they are.
 *
 * Written atomically (a temporary file, then rename) and without fsync: the root is normally a tmpfs, and a file
 * a system crash loses belongs to a container that crash ended anyway.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerFacts } from './facts.js';

/** Name of the facts file inside a container's state directory. */
export const FACTS_FILE = 'facts.json';
/** Version of the file's layout. */
const FACTS_VERSION = 1;

/**
 * Writes `facts` (the spec included: delete's poststop hooks and exec need it after a repair) to the state
 * directory of container `facts.id`. A directory that is gone (the container was torn down) is not made again.
 */
export function writeFactsFile(root: string, facts: ContainerFacts): void {
  const dir = join(root, facts.id);
  const tmp = join(dir, `.${FACTS_FILE}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify({ version: FACTS_VERSION, facts }), { mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  renameSync(tmp, join(dir, FACTS_FILE));
}

/** True when some state directory under `root` holds a facts file: containers exist whatever the store says. */
export function hasFactsFiles(root: string): boolean {
  return stateDirs(root).some((id) => readFacts(root, id) !== undefined);
}

/** The facts of every state directory under `root` with a valid facts file, and the directories without one. */
export function readFactsFiles(root: string): { facts: ContainerFacts[]; skipped: string[] } {
  const facts: ContainerFacts[] = [];
  const skipped: string[] = [];
  for (const id of stateDirs(root)) {
    const f = readFacts(root, id);
    if (f) facts.push(f);
    else skipped.push(id);
  }
  return { facts, skipped };
}

function stateDirs(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** The facts of `<root>/<id>`, or undefined when its file is missing, unreadable or not what runts wrote. */
function readFacts(root: string, id: string): ContainerFacts | undefined {
  let parsed: { version?: unknown; facts?: Partial<ContainerFacts> };
  try {
    parsed = JSON.parse(readFileSync(join(root, id, FACTS_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const f = parsed?.facts;
  if (parsed?.version !== FACTS_VERSION || !f || typeof f !== 'object') return undefined;
  const ok =
    f.id === id &&
    typeof f.bundle === 'string' &&
    typeof f.rootfs === 'string' &&
    typeof f.sandboxId === 'string' &&
    typeof f.cgroupPath === 'string' &&
    typeof f.created === 'string' &&
    typeof f.owner === 'string' &&
    isObject(f.annotations) &&
    isObject(f.spec) &&
    Number.isSafeInteger(f.initPid) &&
    (f.initPid as number) >= 0 &&
    Number.isSafeInteger(f.goferPid) &&
    Number.isSafeInteger(f.creatorPid);
  return ok ? (f as ContainerFacts) : undefined;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
