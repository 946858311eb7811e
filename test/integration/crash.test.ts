// Crash consistency (issue 7): runts killed with SIGKILL at named points and at random times. After each crash,
// `state` and `list` show a valid state, the store opens, and `delete --force` reaches a clean system.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, assertNoLeftovers, eventually, isRoot, processesRootedAt } from '../helpers/runts.js';
import { join } from 'node:path';

const skip = isRoot ? false : 'needs root: real containers';
const STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'];
/** `npm run stress` sets 200; CI runs a handful. */
const TRIALS = Number(process.env.RUNTS_STRESS_TRIALS ?? 8);

describe('crash consistency', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  /** What must hold after any crash: a valid state, a working list, and delete --force cleaning everything. */
  async function recovers(id: string, bundle: string): Promise<void> {
    const st = sb.runts(['state', id]);
    if (st.status === 0) assert.ok(STATUSES.includes(JSON.parse(st.stdout).status), st.stdout);
    else assert.match(st.stderr, /does not exist/);
    const list = sb.runts(['list', '--format', 'json']);
    assert.equal(list.status, 0, list.stderr);
    for (const s of JSON.parse(list.stdout) as { status: string }[]) assert.ok(STATUSES.includes(s.status));
    const del = sb.runts(['delete', '--force', id]);
    assert.ok(del.status === 0 || /does not exist/.test(del.stderr), del.stderr);
    assert.ok(await eventually(() => processesRootedAt(join(bundle, 'rootfs')).length === 0), 'no process left');
    assertNoLeftovers(sb, id, bundle);
  }

  const points: { point: string; before: string[][]; crash: string[] }[] = [
    { point: 'create.after-insert', before: [], crash: ['create'] },
    { point: 'create.after-cgroup', before: [], crash: ['create'] },
    { point: 'create.after-clone', before: [], crash: ['create'] },
    { point: 'create.before-pidfile', before: [], crash: ['create'] },
    { point: 'start.after-signal', before: [['create']], crash: ['start'] },
    { point: 'kill.after-signal', before: [['create'], ['start']], crash: ['kill', 'KILL'] },
    { point: 'delete.half-way', before: [['create'], ['start']], crash: ['delete', '--force'] },
    { point: 'delete.before-record-removal', before: [['create'], ['start']], crash: ['delete', '--force'] },
  ];
  const args = (cmd: string[], id: string, bundle: string) =>
    cmd[0] === 'create' ? ['create', '--bundle', bundle, '--pid-file', join(sb.dir, `${id}.pid`), id] : [cmd[0], ...cmd.slice(1).filter((a) => a.startsWith('-')), id, ...cmd.slice(1).filter((a) => !a.startsWith('-'))];

  for (const p of points) {
    test(`SIGKILL at ${p.point}`, async () => {
      const id = sb.id('crash');
      const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
      for (const cmd of p.before) assert.equal(sb.runts(args(cmd, id, bundle)).status, 0);
      const r = sb.runts(args(p.crash, id, bundle), { env: { RUNTS_CRASH_AT: p.point } });
      assert.equal(r.signal, 'SIGKILL', `runts must have crashed at ${p.point}: ${r.stderr}`);
      await recovers(id, bundle);
    });
  }

  test(`random-time SIGKILLs of runts commands (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const id = sb.id(`rnd${trial}`);
      const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
      const steps = [['create'], ['start'], ['delete', '--force']];
      const victim = trial % steps.length;
      for (const [i, cmd] of steps.entries()) {
        if (i < victim) {
          sb.runts(args(cmd, id, bundle));
        } else {
          await sb.runtsAsync(args(cmd, id, bundle), { killAfterMs: Math.floor(Math.random() * 250) });
          break;
        }
      }
      await recovers(id, bundle);
    }
  });
});
