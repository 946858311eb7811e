/**
 * How commands print their answer: straight to the file descriptor with writeSync. process.stdout would load
 * Node's stream machinery (a few milliseconds of every `state` or `list`) just to write one block of text, and
 * writeSync has the whole answer out before the command exits, whatever fd 1 is.
 */
import { writeSync } from 'node:fs';
import { stderrFd, stdoutFd } from '../cli-io.js';

/**
 * Writes all of `text` to `fd`, waiting out EAGAIN when the fd is a non-blocking pipe someone else left full. A
 * reader that went away (EPIPE, e.g. `runts list | head -1`) ends the output quietly, as SIGPIPE would end runc.
 */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** Prints a command's output on stdout. */
export function printOut(text: string): void {
  writeAll(stdoutFd(), text);
}

/** Prints on stderr (errors, warnings). */
export function printErr(text: string): void {
  writeAll(stderrFd(), text);
}

/** Rows as a table of left-aligned columns three spaces apart (runc's `list` layout); the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('').trimEnd()).join('\n') + '\n';
}
