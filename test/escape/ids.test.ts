// Commands that change or destroy a container act on the exact id only: a prefix that matched another container
// once it is gone must not destroy or signal that one. (runc resolves ids exactly; `delete --force` of a missing
// container succeeds silently there.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from '../helpers/runts.js';
import { guarded, hostile, skip } from './helpers.js';

describe('escape: exact ids for destructive commands', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  /** Two sleeping containers named `abc` and `abcd` (with a unique stem); `abcd` started. */
  const pair = () => {
    const abc = sb.track(`esc${Math.random().toString(36).slice(2, 8)}`);
    const abcd = sb.track(`${abc}d`);
    for (const [id, start] of [[abc, false], [abcd, true]] as const) {
      const c = hostile(sb, 'ids', { edit: (s) => (s.process!.args = ['/bin/sleep', '1000']) });
      const r = sb.runts(['create', '--bundle', c.bundle, id]);
      assert.equal(r.status, 0, r.stderr);
      if (start) assert.equal(sb.runts(['start', id]).status, 0);
    }
    return { abc, abcd };
  };

  test('create abc; create abcd; delete -f abc; delete -f abc leaves abcd running', () =>
    guarded(() => {
      const { abc, abcd } = pair();
      const first = sb.runts(['delete', '--force', abc]);
      assert.equal(first.status, 0, first.stderr);
      sb.runts(['delete', '--force', abc]); // runc: succeeds silently; either way it must not touch abcd
      assert.equal(sb.state(abcd).status, 'running', `${abcd} survived`);
    }));

  test('kill, pause and delete with a prefix of a live container do not touch it', () =>
    guarded(() => {
      const { abc, abcd } = pair();
      assert.equal(sb.runts(['delete', '--force', abc]).status, 0);
      for (const args of [['kill', abc, 'KILL'], ['pause', abc], ['delete', abc]]) {
        const r = sb.runts(args);
        assert.notEqual(r.status, 0, `${args.join(' ')} must not find ${abcd}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      assert.equal(sb.state(abcd).status, 'running', `${abcd} survived`);
    }));
});
