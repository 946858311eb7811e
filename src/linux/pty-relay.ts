import { closeSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import type { SyscallPort } from '../native/port.js';

/** How long create may take to send the pty master before the relay gives up. */
const MASTER_TIMEOUT_MS = 60_000;
/** How long output is still copied after the process exited, when something else keeps the terminal open. */
const GRACE_MS = 1000;

/**
 * A new pty for a foreground `run` (or `exec -t`) whose caller gave no console socket, as runc does: the container
 * gets the slave as its stdio and controlling terminal (through a private console socket), and this process copies
 * its own stdin to the master and the master to its stdout. While it does, the caller's terminal (when stdin is
 * one) is raw, so keys such as Ctrl-C reach the container's terminal instead of ending runts.
 *
 * @example
 * const relay = PtyRelay.listen(sys);
 * await rt.create(id, { consoleSocket: relay.socketPath });
 * await relay.attach();
 * // ... start, wait for the process ...
 * await relay.finish();
 */
export class PtyRelay {
  private master = -1;
  private stream?: ReadStream;
  private output?: Promise<void>;
  private rawStdin = false;
  private readonly onInput = (chunk: Buffer) => this.write(chunk);

  private constructor(
    private readonly dir: string,
    readonly socketPath: string,
    private readonly received: Promise<number>,
  ) {
    // Nobody waits for it when create fails before sending: that rejection is create's error, told elsewhere.
    received.catch(() => undefined);
  }

  /** Listens on a private console socket (in a new 0700 directory) for the master create will send. */
  static listen(sys: SyscallPort): PtyRelay {
    const dir = mkdtempSync(join(tmpdir(), 'runts-console-'));
    const socketPath = join(dir, 'console.sock');
    return new PtyRelay(dir, socketPath, sys.recvFdAsync(socketPath, MASTER_TIMEOUT_MS));
  }

  /** Takes the master (create has sent it) and starts copying both ways. */
  async attach(): Promise<void> {
    this.master = await this.received;
    const out = (this.stream = new ReadStream(this.master));
    this.output = new Promise((done) => {
      out.on('data', (chunk: Buffer) => process.stdout.write(chunk));
      // The slave's last holder exited: reading the master then fails with EIO, which is the end of the output.
      out.on('error', () => done());
      out.on('end', () => done());
      out.on('close', () => done());
    });
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      this.rawStdin = true;
    }
    process.stdin.on('data', this.onInput);
    process.stdin.resume();
  }

  /**
   * Called when the process exited: waits until everything written to the terminal is out (its last holder is
   * gone), but at most GRACE_MS — a child left in the background may hold it for ever — then gives the caller's
   * terminal back.
   */
  async finish(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.output, new Promise<void>((done) => (timer = setTimeout(done, GRACE_MS)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Stops copying and removes the socket's directory; safe to call more than once. */
  close(): void {
    process.stdin.off('data', this.onInput);
    process.stdin.pause();
    if (this.rawStdin) process.stdin.setRawMode(false);
    this.rawStdin = false;
    const removeDir = () => rmSync(this.dir, { recursive: true, force: true });
    if (this.output) {
      // Attached: the ReadStream owns the master and closes it.
      this.stream?.destroy();
      this.master = -1;
      removeDir();
      return;
    }
    // Not attached (create failed): close a master that did arrive, and end an accept still waiting for one with a
    // connection that sends no fd — it would hold this process for MASTER_TIMEOUT_MS.
    this.output = Promise.resolve();
    this.received.then((fd) => closeSync(fd), () => undefined);
    const poke = connect(this.socketPath);
    poke.on('connect', () => poke.destroy()).on('close', removeDir).on('error', removeDir);
  }

  private write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.master >= 0) {
      try {
        at += writeSync(this.master, chunk, at);
      } catch (e) {
        // The master is non-blocking (the ReadStream made it so): a full buffer is retried, a gone slave ends it.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      }
    }
  }
}
