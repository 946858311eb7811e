/**
 * The caller of a command the native front handed to this host (front-host.ts), as the command's spawns and waits
 * see it. The host makes each spawn plan, but the front runs it (src/front/front-spawn.cc, the addon's own spawn
 * code): the container's init and an exec'd process are then the caller's descendants, as with runc — containerd's
 * shim and Podman's conmon are subreapers that wait for them, and a foreground `run` is their parent. The front also
 * waits for such a process when the command does. The protocol is in src/front/front-wire.h.
 *
 * `port()` is the command's SyscallPort: the host's own, with spawn, spawnGated and waitPidAsync going to the front.
 * A command makes one request at a time (create spawns, then a run waits), so the connection needs no queue.
 */
import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { PlanError } from '../errors.js';
import { frontReceive, NativeError, NativeSpawnError, PlanBuilder, type GatedSpawn, type SpawnResult, type SyscallPort, type WaitResult } from '../native/index.js';

/** The header of a front message (struct front_header of front-wire.h): magic, version, length, nfds (u32 each). */
const HEADER_BYTES = 16;
/** RUNTS_FRONT_MAGIC of front-wire.h. */
const FRONT_MAGIC = 0x46535452;

export class FrontCaller {
  /** Processes the front spawned for this command (the ones it can wait for). */
  private readonly spawned = new Set<number>();
  private busy = false;

  /**
   * @param socket the accepted connection (paused: libuv must not read the fds a spawn's answer carries)
   * @param fd its descriptor, read by the addon
   * @param version the protocol version the front spoke
   * @param forwardSignals a foreground `run`: the front forwards the caller's signals to the process it waits for
   */
  constructor(
    private readonly socket: Socket,
    private readonly fd: number,
    private readonly version: number,
    private readonly forwardSignals: boolean,
  ) {}

  /** `base` with the spawns and the waits of this command's processes going to the front. */
  port(base: SyscallPort): SyscallPort {
    const port = Object.create(base) as SyscallPort;
    port.spawn = (plan) => this.spawn(encode(plan), false).done;
    port.spawnGated = (plan) => this.spawn(encode(plan), true);
    port.waitPidAsync = (pid) => (this.spawned.has(pid) ? this.wait(pid) : base.waitPidAsync(pid));
    return port;
  }

  private spawn(plan: Buffer, gated: boolean): GatedSpawn {
    this.claim();
    this.socket.write(`spawn ${gated ? 1 : 0} ${plan.length}\n`);
    this.socket.write(plan);
    let gate: 'open' | 'cancel' | undefined = gated ? undefined : 'open';
    const settleGate = (how: 'open' | 'cancel') => {
      if (gate !== undefined) return;
      gate = how;
      this.socket.write(`gate ${how}\n`);
    };
    const done = this.receiveSpawned().finally(() => {
      // A spawn that ended before its gate (a plan that did not parse) still gets its gate line: the front skips it.
      settleGate('cancel');
      this.busy = false;
    });
    return { done, open: () => settleGate('open'), cancel: () => settleGate('cancel') };
  }

  private async receiveSpawned(): Promise<SpawnResult> {
    const answer = await frontReceive(this.fd, -1);
    const [kind, ...fields] = this.fields(answer.version, answer.body);
    const fd = answer.fds[0] ?? -1;
    if (kind === 'spawned') {
      const pid = Number(fields[0]);
      this.spawned.add(pid);
      return { pid, pidfd: -1, goferPid: Number(fields[1]), seccompFd: fd };
    }
    if (fd >= 0) closeQuietly(fd);
    if (kind === 'badplan') throw new PlanError('bad_config', fields[0] ?? 'the spawn plan did not parse');
    if (kind !== 'failed') throw new Error(`the front answered a spawn with "${kind}"`);
    const [operation = 'spawn', errno = '0', errnoName = 'ECHILD', description = '', path = '', opIndex = '-1', message = ''] = fields;
    // As the addon's spawn error becomes one (src/native/index.ts): with errno 0 the message explains.
    throw new NativeSpawnError(
      { operation, errno: Number(errno), errnoName, path, opIndex: Number(opIndex), description },
      { message: Number(errno) ? undefined : message },
    );
  }

  private async wait(pid: number): Promise<WaitResult> {
    this.claim();
    try {
      this.socket.write(`wait ${pid} ${this.forwardSignals ? 1 : 0}\n`);
      const answer = await this.readWithoutFds();
      const [kind, status] = this.fields(answer.version, answer.body);
      const word = Number(status);
      if (kind !== 'waited' || !Number.isInteger(word) || word < 0) {
        throw new NativeError({ errno: 10, errnoName: 'ECHILD', syscall: 'waitpid', description: `the front could not wait for ${pid}` });
      }
      this.spawned.delete(pid);
      // waitpid's status word: low 7 bits the signal that killed it (0: it exited), the exit code above.
      const signal = word & 0x7f;
      return signal === 0 ? { pid, exitCode: (word >> 8) & 0xff, signal: null } : { pid, exitCode: null, signal };
    } finally {
      this.busy = false;
    }
  }

  /**
   * One answer that carries no fds, read by Node: a wait may last as long as the container, and must not hold a
   * thread of the pool (frontReceive's) for that long. A wait is a command's last request, so nothing with fds
   * follows that libuv could read instead.
   */
  private readWithoutFds(): Promise<{ version: number; body: Buffer }> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      let got = Buffer.alloc(0);
      const finish = () => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.pause();
      };
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < HEADER_BYTES) return;
        const length = got.readUInt32LE(8);
        if (got.length < HEADER_BYTES + length) return;
        finish();
        if (got.readUInt32LE(0) !== FRONT_MAGIC) return reject(new Error('the front answered something that is not a front message'));
        resolve({ version: got.readUInt32LE(4), body: got.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      };
      const onEnd = () => {
        finish();
        reject(new Error('the caller (the runts front) went away during the command'));
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
      socket.resume();
    });
  }

  private fields(version: number, body: Buffer): string[] {
    if (version !== this.version) throw new Error(`the front answered in protocol version ${version}`);
    const fields = body.toString('utf8').split('\0');
    fields.pop(); // after the last NUL
    return fields;
  }

  private claim(): void {
    if (this.busy) throw new Error('a command asks its front one thing at a time');
    this.busy = true;
  }
}

function encode(plan: PlanBuilder | Buffer): Buffer {
  return plan instanceof PlanBuilder ? plan.encode() : plan;
}

/** close(2), for an fd that may be closed already. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
