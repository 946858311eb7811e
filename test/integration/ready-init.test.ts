// The runts-init a long-lived Runtime keeps started ahead of need (RuntimeOptions.keepInitReady): after a create one
// waits, the next create hands it its plan (it becomes that container's stage 1, and so its gofer), close drops it,
// and a Runtime opened without it (the CLI's) keeps none. The containers it starts get the caller's stdio, as those
// of a freshly exec'd runts-init do. While it waits it makes the network and IPC namespaces the previous spawn made,
// which the next container gets, and a spawn that wants others (the runtime's own, an exec's) never sees them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Spec } from '../../src/oci/types.js';
import { goferStat } from '../../src/gofer/index.js';
import { Runtime } from '../../src/runtime.js';
import { addUserNamespace, eventually, isRoot, REPO, Sandbox } from '../helpers/runts.js';

const skip = isRoot ? false : 'needs root: real containers';

/**
 * This process's children that are a runts-init waiting for a spawn. A container's init forked from one has the same
 * command line until it execs, but it is in the container's mount namespace, not ours.
 */
function readyInits(): number[] {
  const ourMounts = readlinkSync('/proc/self/ns/mnt');
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return (
          ppid === process.pid &&
          readFileSync(`/proc/${n}/cmdline`, 'utf8').startsWith('runts-init\0--ready\0') &&
          readlinkSync(`/proc/${n}/ns/mnt`) === ourMounts
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const ns = (pid: number | 'self', type: 'net' | 'ipc') => readlinkSync(`/proc/${pid}/ns/${type}`);

describe('a runts-init kept ready by the Runtime', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('waits after a create, becomes the next container\'s stage 1 (then its gofer), is replaced, and is dropped at close', async () => {
    const rt = await Runtime.open({ root: sb.root });
    try {
      assert.deepEqual(readyInits(), [], 'none before the first create');
      const first = sb.id('ready1');
      await rt.create(first, { bundle: sb.bundle(first, (s) => void (s.process!.args = ['/bin/sleep', '1000'])) });
      assert.ok(await eventually(() => readyInits().length === 1), 'one waits after a create');
      const [waiting] = readyInits();
      const second = sb.id('ready2');
      await rt.create(second, { bundle: sb.bundle(second, (s) => void (s.process!.args = ['/bin/sleep', '1000'])) });
      await goferStat(sb.root, second, '/');
      assert.equal(comm(waiting!), 'runts-gofer', 'the waiting runts-init ran the second create and became its gofer');
      assert.ok(await eventually(() => readyInits().length === 1 && readyInits()[0] !== waiting), 'another one waits');
      await rt.delete(first, { force: true });
      await rt.delete(second, { force: true });
    } finally {
      await rt.close();
    }
    assert.deepEqual(readyInits(), [], 'close killed and reaped the one waiting');
  });

  test('makes ahead the network and IPC namespaces the next create gets; a spawn that wants others never sees them', async () => {
    const rt = await Runtime.open({ root: sb.root });
    const sleep = (s: Spec) => void (s.process!.args = ['/bin/sleep', '1000']);
    const ids: string[] = [];
    const create = async (name: string, edit: (s: Spec) => void = sleep) => {
      const id = sb.id(name);
      ids.push(id);
      return (await rt.create(id, { bundle: sb.bundle(id, edit) })).pid!;
    };
    const waiting = async () => {
      assert.ok(await eventually(() => readyInits().length === 1), 'one runts-init waits');
      return readyInits()[0]!;
    };
    try {
      await create('ahead1');
      const first = await waiting();
      const made = { net: ns(first, 'net'), ipc: ns(first, 'ipc') };
      assert.notEqual(made.net, ns('self', 'net'), 'the waiting runts-init made a network namespace');
      assert.notEqual(made.ipc, ns('self', 'ipc'), 'and an IPC namespace');
      const init = await create('ahead2');
      assert.deepEqual({ net: ns(init, 'net'), ipc: ns(init, 'ipc') }, made, 'the next container got them');
      const second = await waiting();
      assert.notEqual(ns(second, 'net'), made.net, 'the next runts-init made new ones');
      // An exec joins the container's namespaces: the waiting runts-init's own are not the exec's.
      const exec = await rt.exec(ids[0]!, { args: ['/bin/sleep', '1000'], detach: true });
      assert.equal(ns(exec.pid, 'net'), ns((await rt.state(ids[0]!)).pid!, 'net'), "the exec is in its container's network namespace");
      // That spawn made none: the runts-init after it makes none either, and one that waited with them goes back.
      const third = await waiting();
      assert.equal(ns(third, 'net'), ns('self', 'net'), 'after an exec, nothing is made ahead');
      await create('ahead3');
      const withSome = await waiting();
      assert.notEqual(ns(withSome, 'net'), ns('self', 'net'));
      const hostNet = await create('ahead4', (s) => {
        sleep(s);
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'ipc');
      });
      assert.deepEqual({ net: ns(hostNet, 'net'), ipc: ns(hostNet, 'ipc') }, { net: ns('self', 'net'), ipc: ns('self', 'ipc') }, "a container without those namespaces is in the runtime's");
      // A user namespace owns the namespaces made with it: the ones made ahead (in ours) are not its.
      await create('ahead5');
      const ahead = ns(await waiting(), 'net');
      const userns = await create('ahead6', (s) => {
        sleep(s);
        addUserNamespace(s);
      });
      assert.notEqual(ns(userns, 'net'), ahead, 'a user-namespaced container makes its own');
      assert.notEqual(ns(userns, 'net'), ns('self', 'net'));
    } finally {
      for (const id of ids) await rt.delete(id, { force: true }).catch(() => undefined);
      await rt.close();
    }
  });

  test('a Runtime opened with keepInitReady false (the CLI) keeps none', async () => {
    const rt = await Runtime.open({ root: sb.root, keepInitReady: false });
    try {
      const id = sb.id('noready');
      await rt.create(id, { bundle: sb.bundle(id) });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(readyInits(), []);
      await rt.delete(id, { force: true });
    } finally {
      await rt.close();
    }
  });

  test("the containers it starts write to the caller's stdout and stderr", () => {
    // A process of its own whose stdout and stderr are files: the first container's stage 1 is exec'd, the second's
    // and third's were waiting.
    const ids = [sb.id('out1'), sb.id('out2'), sb.id('out3')];
    const bundles = ids.map((id) => sb.bundle(id, (s) => void (s.process!.args = ['/bin/sh', '-c', `echo out-${id}; echo err-${id} >&2`])));
    const script = join(sb.dir, 'ready-stdio.mts');
    writeFileSync(
      script,
      `import { Runtime } from ${JSON.stringify(join(REPO, 'src/runtime.ts'))};
       import { nativePort } from ${JSON.stringify(join(REPO, 'src/native/index.ts'))};
       const rt = await Runtime.open({ root: ${JSON.stringify(sb.root)} });
       const sys = nativePort();
       const ids = ${JSON.stringify(ids)}, bundles = ${JSON.stringify(bundles)};
       for (let i = 0; i < ids.length; i++) {
         const { pid } = await rt.create(ids[i], { bundle: bundles[i] });
         await rt.start(ids[i]);
         await sys.waitPidAsync(pid);
         await rt.delete(ids[i], { force: true });
         await new Promise((r) => setTimeout(r, 100)); // the next runts-init is started after the spawn
       }
       await rt.close();`,
    );
    const out = openSync(join(sb.dir, 'ready.out'), 'w');
    const err = openSync(join(sb.dir, 'ready.err'), 'w');
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', out, err], timeout: 60_000 });
      assert.equal(r.status, 0, readFileSync(join(sb.dir, 'ready.err'), 'utf8'));
    } finally {
      closeSync(out);
      closeSync(err);
    }
    assert.deepEqual(readFileSync(join(sb.dir, 'ready.out'), 'utf8').trim().split('\n'), ids.map((id) => `out-${id}`));
    assert.deepEqual(readFileSync(join(sb.dir, 'ready.err'), 'utf8').trim().split('\n'), ids.map((id) => `err-${id}`));
  });
});
