/**
 * Signal names and numbers as `runts kill` accepts them: "KILL", "SIGKILL", "sigterm", "9", "RTMIN+3".
 */
import { constants } from 'node:os';
import { SignalError } from '../errors.js';

export { SignalError };

// glibc's SIGRTMIN is 34 (32 and 33 are taken by NPTL); runc, kill(1) and bash all use 34..64.
const SIGRTMIN = 34;
const SIGRTMAX = 64;

// Aliases share a number; the canonical name is listed first so signalName prefers it.
const PREFERRED = ['SIGABRT', 'SIGIO', 'SIGCHLD'];

const BY_NAME = new Map<string, number>();
const BY_NUMBER = new Map<number, string>();
for (const name of PREFERRED) {
  const n = (constants.signals as Record<string, number | undefined>)[name];
  if (n !== undefined) BY_NUMBER.set(n, name);
}
for (const [name, n] of Object.entries(constants.signals)) {
  BY_NAME.set(name, n);
  if (!BY_NUMBER.has(n)) BY_NUMBER.set(n, name);
}
// Old names some tools still send.
if (!BY_NAME.has('SIGCLD')) BY_NAME.set('SIGCLD', BY_NAME.get('SIGCHLD') ?? 17);

function unknown(s: string): SignalError {
  const q = JSON.stringify(s);
  const shown = q.length > 64 ? `${q.slice(0, 64)}…` : q;
  return new SignalError('bad_config', `unknown signal ${shown}: use a name like SIGTERM or a number`);
}

/**
 * Parses a signal as runc does: a number (0..64; 0 is kill(2)'s null signal, which only checks that the process
 * exists), or a name with or without "SIG", any case, including the real-time forms RTMIN, RTMIN+n, RTMAX-n.
 *
 * @example
 * parseSignal('9');        // 9
 * parseSignal('sigterm');  // 15
 * parseSignal('RTMIN+3');  // 37
 */
export function parseSignal(s: string): number {
  if (typeof s !== 'string') throw unknown(String(s));
  const text = s.trim();
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= SIGRTMAX) return n;
    throw unknown(s);
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const known = BY_NAME.get(name);
  if (known !== undefined) return known;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]{1,2}))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
    // RTMIN counts up and RTMAX counts down; "RTMIN-1" or "RTMAX+1" would leave the range.
    if ((rt[1] === 'MIN' && offset < 0) || (rt[1] === 'MAX' && offset > 0)) throw unknown(s);
    const n = base + offset;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw unknown(s);
}

/**
 * The conventional name of a signal number: "SIGKILL", "SIGRTMIN+3", "SIGRTMAX-2"; the number as a string
 * when it names no signal.
 *
 * @example
 * signalName(15); // 'SIGTERM'
 */
export function signalName(n: number): string {
  const known = BY_NUMBER.get(n);
  if (known !== undefined) return known;
  if (Number.isInteger(n) && n >= SIGRTMIN && n <= SIGRTMAX) {
    if (n === SIGRTMIN) return 'SIGRTMIN';
    if (n === SIGRTMAX) return 'SIGRTMAX';
    // Same split as bash's `kill -l`: the lower half counts from RTMIN, the upper half from RTMAX.
    return n <= SIGRTMIN + 15 ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  }
  return String(n);
}
