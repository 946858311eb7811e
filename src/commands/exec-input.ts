import { readFileSync } from 'node:fs';
import { RuntsError } from '../errors.js';
import { parseJsonFile, validateProcess } from '../oci/config.js';
import type { Process } from '../oci/types.js';

export class ExecInputError extends RuntsError {}

/** Reads and validates `exec --process file.json`. */
export function readExecProcess(file: string): Process {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ExecInputError('not_found', `cannot read --process file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return validateProcess(parseJsonFile(text, file), file);
}

/** `uid[:gid]` as runc takes it for `exec --user` (numbers only: names would need the container's passwd). */
export function parseUser(text: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new ExecInputError('bad_config', `invalid --user "${text}": use uid or uid:gid (numbers)`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
}

/** One `exec --additional-gids` value: a group id (a number, as runc takes it). */
export function parseGid(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) {
    throw new ExecInputError('bad_config', `invalid --additional-gids "${text}": use a group id (a number)`);
  }
  return Number(text);
}
