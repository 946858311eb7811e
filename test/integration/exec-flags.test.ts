// runc's exec flags beyond the process settings: --ignore-paused (an exec into a paused container, frozen until
// resume, never blocking the container's other operations) and --cgroup (start in a sub-cgroup of the container's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, cgroupHierarchies, eventually, isRoot } from '../helpers/runts.js';

const skip = isRoot ? false : 'needs root: real containers';

describe('exec --ignore-paused', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  // In every hierarchy: the freezer's is joined last, since the process stops as soon as it is in the frozen cgroup.
  const procs = (id: string, hierarchy = 'pids') =>
    readFileSync(join('/sys/fs/cgroup', hierarchy, sb.cgroupParent, id, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);

  const paused = () => {
    const id = sb.id('ip');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
    assert.equal(sb.runts(['pause', id]).status, 0);
    return { id, bundle };
  };

  test('without the flag a paused container refuses the exec and says how to ask', () => {
    const { id } = paused();
    const r = sb.runts(['exec', id, 'true']);
    assert.equal(r.status, 255);
    assert.match(r.stderr, /cannot exec container "[^"]+" in state paused: resume it first, or pass --ignore-paused/);
  });

  test('the process joins the frozen cgroup, stays frozen, and runs once another runts resumes the container', async () => {
    const { id, bundle } = paused();
    const exec = sb.runtsAsync(['exec', '--ignore-paused', id, 'sh', '-c', 'echo ran > /ran; echo out']);
    // The exec's process is in the container's (frozen) cgroup, beside the init, in every hierarchy.
    assert.ok(await eventually(() => procs(id, 'freezer').length >= 2, 10_000), 'the exec process joined the cgroup');
    assert.deepEqual(procs(id, 'pids'), procs(id, 'freezer'));
    assert.deepEqual(procs(id, 'memory'), procs(id, 'freezer'));
    assert.equal(existsSync(join(bundle, 'rootfs/ran')), false, 'frozen: it has not run');
    assert.equal(sb.state(id).status, 'paused');
    // Not blocked by the exec in flight: resume (another runts process) goes through and is recorded.
    const resumed = sb.runts(['resume', id], { timeoutMs: 10_000 });
    assert.equal(resumed.status, 0, resumed.stderr);
    const r = await exec;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(readFileSync(join(bundle, 'rootfs/ran'), 'utf8'), 'ran\n');
    assert.equal(sb.state(id).status, 'running');
  });

  test('kill and delete --force of the paused container are not blocked by the exec in flight', async () => {
    const { id, bundle } = paused();
    const exec = sb.runtsAsync(['exec', '--ignore-paused', '-d', id, 'sleep', '100']);
    assert.ok(await eventually(() => procs(id).length >= 2, 10_000), 'the exec process joined the cgroup');
    assert.equal(sb.runts(['kill', id, 'KILL'], { timeoutMs: 10_000 }).status, 0);
    const del = sb.runts(['delete', '--force', id], { timeoutMs: 10_000 });
    assert.equal(del.status, 0, del.stderr);
    // The exec ends either way, but how is a race: kill thaws the cgroup so the init can die, and in that moment the
    // exec's process may get through to its program (exit 0) before the dying pid namespace takes it, or not (255, exec's own failure).
    const r = await exec;
    assert.ok(r.status === 0 || r.status === 255, `the exec ended with a status (${r.status}, ${r.signal}): ${r.stderr}`);
    sb.untrack(id);
    assertNoLeftovers(sb, id, bundle);
  });
});

describe('exec --cgroup', { skip }, () => {
  let sb: Sandbox;
  let id: string;
  const subDirs: string[] = [];
  before(() => {
    sb = new Sandbox();
    id = sb.id('cg');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
    // A sub-cgroup "sub" in every hierarchy, and "mem" in the memory one only.
    for (const h of cgroupHierarchies()) {
      for (const name of h.endsWith('/memory') ? ['sub', 'mem'] : ['sub']) {
        const dir = join(h, sb.cgroupParent, id, name);
        mkdirSync(dir);
        subDirs.push(dir);
        // A new cpuset cgroup has no cpus or mems: nothing may join it until they are set (ENOSPC).
        for (const f of h.includes('cpuset') ? ['cpuset.cpus', 'cpuset.mems'] : []) {
          writeFileSync(join(dir, f), readFileSync(join(dir, '..', f)));
        }
      }
    }
  });
  after(() => {
    // Before the container's own dirs go (delete removes them with it when it can).
    for (const dir of subDirs) if (existsSync(dir)) rmdirSync(dir);
    sb.cleanup();
  });

  /** controller list → cgroup path of a process started by `exec -d` with `flags`, seen from the host. */
  const execCgroups = (flags: string[]) => {
    const pidFile = join(sb.dir, `exec-${Math.random().toString(36).slice(2)}.pid`);
    const r = sb.runts(['exec', '-d', '--pid-file', pidFile, ...flags, id, 'sleep', '100']);
    assert.equal(r.status, 0, r.stderr);
    const pid = readFileSync(pidFile, 'utf8').trim();
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    process.kill(Number(pid), 'SIGKILL');
    return new Map(lines.map((l) => [l.split(':')[1], l.split(':').slice(2).join(':')]));
  };
  const base = () => `${sb.cgroupParent}/${id}`;

  test('a path alone: the process starts in that sub-cgroup in every hierarchy', () => {
    const cg = execCgroups(['--cgroup', 'sub']);
    assert.equal(cg.get('memory'), `${base()}/sub`);
    assert.equal(cg.get('pids'), `${base()}/sub`);
    assert.equal(cg.get('freezer'), `${base()}/sub`);
  });

  test('controller:path: only that controller\'s hierarchy changes', () => {
    const cg = execCgroups(['--cgroup', 'memory:mem', '--cgroup', 'pids:sub']);
    assert.equal(cg.get('memory'), `${base()}/mem`);
    assert.equal(cg.get('pids'), `${base()}/sub`);
    assert.equal(cg.get('freezer'), base());
  });

  for (const [value, message] of [
    ['../..', /invalid --cgroup "\.\.\/\.\.": give a path inside the container's cgroup, relative and without "\.\."/],
    ['/sys/fs/cgroup', /invalid --cgroup "\/sys\/fs\/cgroup": give a path inside/],
    ['memory:sub/../../x', /invalid --cgroup "memory:sub\/\.\.\/\.\.\/x"/],
    ['missing', /the container has no sub-cgroup "missing" in \/sys\/fs\/cgroup\/\S+: create it first/],
    ['nosuch:sub', /no cgroup v1 hierarchy has the controller "nosuch"/],
  ] as const) {
    test(`--cgroup ${value} is refused with one line, and nothing runs`, () => {
      const before = readFileSync(join('/sys/fs/cgroup/pids', sb.cgroupParent, id, 'cgroup.procs'), 'utf8');
      const r = sb.runts(['exec', '--cgroup', value, id, 'touch', '/ran']);
      assert.equal(r.status, 255);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(readFileSync(join('/sys/fs/cgroup/pids', sb.cgroupParent, id, 'cgroup.procs'), 'utf8'), before);
    });
  }
});
