// --console-socket: runts makes a pty in the container, the slave becomes the process's stdio and controlling
// terminal, and the master fd is sent over the unix socket (SCM_RIGHTS), as containerd's shim expects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { RUNTS, Sandbox, isRoot } from '../helpers/runts.js';
import { nativePort } from '../../src/native/index.js';

const skip = isRoot ? false : 'needs root: real containers';

/** Reads a pty master until the slave side is gone (EIO). */
function drain(fd: number): string {
  const buf = Buffer.alloc(4096);
  let out = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EIO') return out;
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return out;
    out += buf.subarray(0, n).toString();
  }
}

describe('create --console-socket', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('the process gets a pty as stdio and controlling terminal; the master arrives on the socket', async () => {
    const id = sb.id('tty');
    const bundle = sb.bundle(id, (s) => {
      s.process!.terminal = true;
      s.process!.args = ['/bin/sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; ps -o pid,tty | sed -n 2p; exit 0'];
    });
    const socket = join(sb.dir, 'console.sock');
    const master = nativePort().recvFdAsync(socket, 10_000);
    const created = sb.runts(['create', '--bundle', bundle, '--console-socket', socket, id]);
    assert.equal(created.status, 0, created.stderr);
    const fd = await master;
    try {
      assert.equal(sb.runts(['start', id]).status, 0);
      const out = drain(fd).replace(/\r/g, '');
      assert.match(out, /^\/dev\/pts\/\d+$/m);
      assert.match(out, /^stdio-is-tty$/m);
      // pid 1 has the pty as its controlling terminal.
      assert.match(out, /^\s*1\s+(pts\/\d+|136,\d+)/m); // busybox ps prints major,minor
    } finally {
      closeSync(fd);
    }
  });

  test('run with terminal true and no socket gives the process a new pty, relayed to the caller (as runc)', () => {
    const id = sb.id('runtty');
    const bundle = sb.bundle(id, (s) => {
      s.process!.terminal = true;
      // A pty of the container's own devpts (ttyname names it), working with stty; input typed by the caller
      // reaches it through the relay.
      s.process!.args = ['/bin/sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; stty -a >/dev/null && echo stty-ok; read line; echo "got:$line"; exit 7'];
    });
    // script(1) gives runts a pty of its own as stdio, as an interactive shell would; it types one line.
    const r = spawnSync('script', ['-qec', `${RUNTS} --root ${sb.root} run --bundle ${bundle} ${id}`, '/dev/null'], {
      encoding: 'utf8',
      timeout: 30_000,
      input: 'hello\n',
    });
    const out = r.stdout.replace(/\r/g, '');
    assert.match(out, /^\/dev\/pts\/\d+$/m, out);
    assert.match(out, /^stdio-is-tty$/m);
    assert.match(out, /^stty-ok$/m);
    assert.match(out, /^got:hello$/m);
    assert.equal(r.status, 7, r.stderr);
  });

  test('run with terminal true from a caller without a terminal still gives the process a pty', () => {
    const id = sb.id('runtty2');
    const bundle = sb.bundle(id, (s) => {
      s.process!.terminal = true;
      s.process!.args = ['/bin/sh', '-c', 'tty; [ -t 1 ] && echo stdout-is-tty'];
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.replace(/\r/g, ''), /^\/dev\/pts\/\d+\nstdout-is-tty\n$/);
  });

  test('the pty belongs to the process\'s user (as runc), through a console socket too', () => {
    const id = sb.id('ttyowner');
    const bundle = sb.bundle(id, (s) => {
      s.process!.terminal = true;
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.args = ['/bin/sh', '-c', 'stat -c %u $(tty)'];
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.replace(/\r/g, ''), '1000\n');
  });

  test('exec -t without a console socket gives the process a new pty too', () => {
    const id = sb.id('exectty');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
    const r = sb.runts(['exec', '-t', id, '/bin/sh', '-c', 'tty; exit 3']);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout.replace(/\r/g, ''), /^\/dev\/pts\/\d+\n$/);
  });

  test('terminal true without a console socket is refused by create with a clear error', () => {
    const id = sb.id('notty');
    const bundle = sb.bundle(id, (s) => (s.process!.terminal = true));
    const r = sb.runts(['create', '--bundle', bundle, id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /terminal is true but no --console-socket/);
  });
});
