// Real containers, as root: the lifecycle of issue 2 through the CLI exactly as containerd and shells call it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, eventually, isRoot, processesRootedAt } from '../helpers/runts.js';

const skip = isRoot ? false : 'needs root: real containers';

// Every test through both paths: bin/runts running the command in Node, and handing it to a warm host (the front
// spawns what the host planned). `sb.runts` calls bin/runts with the sandbox's --root, so the host serves them all.
const PATHS = ['node', 'host'] as const;
/** A sandbox with a warm host serving its root on the host path. */
async function sandboxFor(path: (typeof PATHS)[number]): Promise<Sandbox> {
  const sb = new Sandbox();
  if (path === 'host') await sb.startHost();
  return sb;
}

for (const path of PATHS)
describe(`run (${path})`, { skip }, () => {
  let sb: Sandbox;
  before(async () => (sb = await sandboxFor(path)));
  after(async () => {
    await sb.stopHosts();
    sb.cleanup();
  });

  const run = (args: string[], edit?: Parameters<Sandbox['bundle']>[1]) => {
    const id = sb.id('run');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = args;
      edit?.(s);
    });
    return { id, bundle, result: sb.runts(['run', '--bundle', bundle, id]) };
  };

  test('prints the output and returns exit status 0', () => {
    const { result } = run(['/bin/echo', 'hello from runts']);
    assert.equal(result.stdout, 'hello from runts\n');
    assert.equal(result.status, 0, result.stderr);
  });

  test('returns the exit status of the process (7)', () => {
    assert.equal(run(['/bin/sh', '-c', 'exit 7']).result.status, 7);
  });

  test('returns 128 + signal when the process is killed (SIGKILL → 137)', async () => {
    // From outside: the kernel ignores signals a pid namespace's init gets from inside it without a handler.
    const id = sb.id('killed');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    const pidFile = join(sb.dir, `${id}.pid`);
    const running = sb.runtsAsync(['run', '--bundle', bundle, '--pid-file', pidFile, id]);
    // The pid file appears at create: wait for start too, or the kill races it.
    assert.ok(await eventually(() => existsSync(pidFile) && sb.runts(['state', id]).stdout.includes('"running"')));
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    assert.equal((await running).status, 137);
  });

  test('the container is gone afterwards (run deletes it)', () => {
    const { id } = run(['/bin/true']);
    const r = sb.runts(['state', id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /does not exist/);
  });

  test('inside: pid 1, the config hostname, only its own processes in /proc', () => {
    const { result } = run(['/bin/sh', '-c', 'echo pid=$$; hostname; ls -d /proc/[0-9]* | wc -l'], (s) => (s.hostname = 'inside-test'));
    assert.equal(result.status, 0, result.stderr);
    const [pid, host, count] = result.stdout.trim().split('\n');
    assert.equal(pid, 'pid=1');
    assert.equal(host, 'inside-test');
    // sh (1), ls and wc: a handful, not the host's hundreds.
    assert.ok(Number(count) <= 4, `container sees ${count} processes`);
  });

  test('inside: the rootfs is the bundle\'s and host files are unreachable', () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'runts-hostonly-'));
    writeFileSync(join(hostDir, 'secret'), 'host');
    try {
      const id = sb.id('rootfs');
      const bundle = sb.bundle(id, (s) => {
        s.process!.args = ['/bin/sh', '-c', `cat /marker; ls ${hostDir}/secret 2>&1; ls /proc/1/root/..${hostDir} 2>&1 | head -1`];
      });
      writeFileSync(join(bundle, 'rootfs/marker'), 'bundle-rootfs\n');
      const r = sb.runts(['run', '--bundle', bundle, id]);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines[0], 'bundle-rootfs');
      assert.match(lines[1], /No such file or directory/);
      assert.match(lines[2], /No such file or directory/);
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  test('inside: masked paths are empty and readonly paths refuse writes', () => {
    const { result } = run(['/bin/sh', '-c', 'wc -c < /proc/timer_list; ls /proc/acpi 2>/dev/null | wc -l; (echo x > /proc/sys/kernel/domainname) 2>/dev/null || echo refused'], (s) => {
      s.linux!.maskedPaths = ['/proc/timer_list', '/proc/acpi'];
      s.linux!.readonlyPaths = ['/proc/sys'];
    });
    const [timerList, acpi, write] = result.stdout.trim().split('\n');
    // Unmasked, the host shows kilobytes of /proc/timer_list and the entries of /proc/acpi.
    assert.equal(timerList.trim(), '0');
    assert.equal(acpi.trim(), '0');
    assert.equal(write, 'refused');
  });

  test('inside: the memory limit is in the container\'s cgroup', () => {
    const limit = 64 * 1024 * 1024;
    const { result } = run(['/bin/sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit } };
    });
    assert.equal(result.stdout.trim(), String(limit), result.stderr);
  });

  test('inside: the capabilities are the configured ones', () => {
    const { result } = run(['/bin/sh', '-c', 'grep -E "^Cap(Eff|Prm|Bnd|Inh|Amb)" /proc/self/status'], (s) => {
      const caps = ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'];
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
    });
    // CHOWN (0) + KILL (5) + NET_BIND_SERVICE (10) = 0x421; uid 0 keeps permitted = effective through exec.
    const caps = Object.fromEntries(result.stdout.trim().split('\n').map((l) => l.split(/:\s+/)));
    assert.equal(caps.CapBnd, '0000000000000421');
    assert.equal(caps.CapEff, '0000000000000421');
    assert.equal(caps.CapPrm, '0000000000000421');
    assert.equal(caps.CapInh, '0000000000000000');
  });
});

for (const path of PATHS)
describe(`create / start / state / kill / delete (${path})`, { skip }, () => {
  let sb: Sandbox;
  before(async () => (sb = await sandboxFor(path)));
  after(async () => {
    await sb.stopHosts();
    sb.cleanup();
  });

  test('create leaves the init blocked; start runs it; kill stops it; delete cleans up', async () => {
    const id = sb.id('life');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sh', '-c', 'touch /started; exec sleep 1000']));
    const pidFile = join(sb.dir, `${id}.pid`);
    const started = join(bundle, 'rootfs/started');

    const created = sb.runts(['create', '--bundle', bundle, '--pid-file', pidFile, id]);
    assert.equal(created.status, 0, created.stderr);
    const st = sb.state(id);
    assert.equal(st.status, 'created');
    assert.equal(st.pid, Number(readFileSync(pidFile, 'utf8')));
    assert.ok(existsSync(`/proc/${st.pid}`), 'the init is alive');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existsSync(started), false, 'the user process must not run before start');

    assert.equal(sb.runts(['start', id]).status, 0);
    assert.ok(await eventually(() => existsSync(started)), 'start runs the process');
    assert.equal(sb.state(id).status, 'running');

    const again = sb.runts(['start', id]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, new RegExp(`cannot start container "${id}" in state running`));

    const refused = sb.runts(['delete', id]);
    assert.notEqual(refused.status, 0, 'delete of a running container needs --force');
    assert.match(refused.stderr, /in state running/);
    assert.equal(sb.state(id).status, 'running', 'a refused delete changes nothing');

    assert.equal(sb.runts(['kill', id, 'KILL']).status, 0);
    assert.ok(await eventually(() => sb.state(id).status === 'stopped'), 'state says stopped once the process is dead');
    assert.equal(sb.state(id).pid, 0);
    const killStopped = sb.runts(['kill', id]);
    assert.notEqual(killStopped.status, 0);

    assert.equal(sb.runts(['delete', id]).status, 0);
    assert.match(sb.runts(['state', id]).stderr, /does not exist/);
    assertNoLeftovers(sb, id, bundle);
  });

  test('kill accepts names with and without SIG, and numbers', async () => {
    for (const signal of ['SIGTERM', 'TERM', '15']) {
      const id = sb.id('sig');
      // pid 1 of a namespace only gets the signals it handles: trap TERM.
      const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']));
      assert.equal(sb.runts(['run', '-d', '--bundle', bundle, id]).status, 0);
      assert.equal(sb.runts(['kill', id, signal]).status, 0);
      assert.ok(await eventually(() => sb.state(id).status === 'stopped'), `signal ${signal}`);
      assert.equal(sb.runts(['delete', id]).status, 0);
    }
    const id = sb.id('badsig');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['run', '-d', '--bundle', bundle, id]).status, 0);
    const bad = sb.runts(['kill', id, 'NOPE']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown signal/);
    assert.equal(sb.state(id).status, 'running');
  });

  test('delete --force of a running container cleans everything', async () => {
    const id = sb.id('force');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sh', '-c', 'sleep 1000 & exec sleep 1000']));
    assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
    const pid = sb.state(id).pid;
    assert.ok(pid > 0);
    const r = sb.runts(['delete', '--force', id]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(await eventually(() => processesRootedAt(join(bundle, 'rootfs')).length === 0), 'no process left');
    assertNoLeftovers(sb, id, bundle);
  });

  test('an abbreviated ID resolves when unique, and is ambiguous otherwise', () => {
    const a = 'abbrev-one-' + Math.random().toString(36).slice(2, 6);
    const b = 'abbrev-two-' + Math.random().toString(36).slice(2, 6);
    for (const id of [a, b]) {
      const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
      sb.track(id);
      assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    }
    assert.equal(sb.state('abbrev-one').id, a);
    const amb = sb.runts(['state', 'abbrev-']);
    assert.notEqual(amb.status, 0);
    assert.match(amb.stderr, /ambiguous/);
    assert.ok(amb.stderr.includes(a) && amb.stderr.includes(b), amb.stderr);
  });

  test('list shows containers as a table, JSON and IDs', () => {
    const id = sb.id('listed');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    const table = sb.runts(['list']).stdout;
    assert.match(table, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
    assert.match(table, new RegExp(`${id}\\s+\\d+\\s+created\\s+${bundle}`));
    const json = JSON.parse(sb.runts(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    assert.equal(json.find((s) => s.id === id)?.status, 'created');
    assert.ok(sb.runts(['list', '-q']).stdout.split('\n').includes(id));
  });

  test('two concurrent creates of one ID: exactly one wins', async () => {
    const id = sb.id('race');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    const results = await Promise.all([0, 1].map(() => sb.runtsAsync(['create', '--bundle', bundle, id])));
    assert.deepEqual(results.map((r) => r.status).sort(), [0, 1], JSON.stringify(results));
    const loser = results.find((r) => r.status !== 0)!;
    assert.match(loser.stderr, new RegExp(`container "${id}" already exists`));
    assert.equal(sb.state(id).status, 'created');
  });
});

for (const path of PATHS)
describe(`bad input: one clear line, non-zero exit, nothing left behind (${path})`, { skip }, () => {
  let sb: Sandbox;
  before(async () => (sb = await sandboxFor(path)));
  after(async () => {
    await sb.stopHosts();
    sb.cleanup();
  });

  const cases: { name: string; args: (id: string, bundle: string) => string[]; edit?: (bundle: string) => void; expect: RegExp }[] = [
    { name: 'an invalid ID', args: (_id, b) => ['create', '--bundle', b, 'bad/id'], expect: /invalid container id/ },
    { name: 'a missing bundle', args: (id) => ['create', '--bundle', '/nonexistent/bundle', id], expect: /bundle.*does not exist/ },
    { name: 'malformed config.json', args: (id, b) => ['create', '--bundle', b, id], edit: (b) => writeFileSync(join(b, 'config.json'), '{"ociVersion": "1.0.2", "process": '), expect: /config\.json.*JSON/ },
    {
      name: 'mistyped config.json',
      args: (id, b) => ['create', '--bundle', b, id],
      edit: (b) => {
        const spec = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
        spec.process.args = 42;
        writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
      },
      expect: /process\.args/,
    },
    {
      name: 'a process binary that does not exist',
      args: (id, b) => ['create', '--bundle', b, id],
      edit: (b) => {
        const spec = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
        spec.process.args = ['/no/such/program'];
        writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
      },
      expect: /container "[^"]+": cannot run "\/no\/such\/program": not found in the container.s rootfs/,
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const id = sb.id('bad');
      const bundle = sb.bundle(id);
      c.edit?.(bundle);
      const r = sb.runts(c.args(id, bundle));
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, c.expect);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(await eventually(() => processesRootedAt(join(bundle, 'rootfs')).length === 0), 'no process left');
      assertNoLeftovers(sb, id, bundle);
    });
  }

  test('the json log ends with the error line containerd shows', () => {
    const id = sb.id('logged');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/no/such/program']));
    const log = join(sb.dir, 'log.json');
    const r = sb.runts(['--log', log, '--log-format', 'json', 'create', '--bundle', bundle, id]);
    assert.notEqual(r.status, 0);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    assert.equal(last.level, 'error');
    assert.match(last.msg, /\/no\/such\/program/);
    assert.ok(!Number.isNaN(Date.parse(last.time)));
  });
});
