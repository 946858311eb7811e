// The chart is the only rule book: every "may this happen now" question outside the chart's transitions is one of
// these predicates of src/machines, and no other module spells out a status to decide one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  canHostChildren,
  canQuery,
  CONTAINER_STATUSES,
  deleteStopsChildren,
  hasInit,
  isExit,
  isResting,
  refusalError,
  startFailureTearsDown,
  statusOfState,
  statusOfStored,
  type ContainerStatus,
} from '../../src/machines/index.js';
import { PlanError as EncoderPlanError } from '../../src/native/plan.js';
import { PlanError as BuilderPlanError } from '../../src/linux/plan-init.js';
import { SignalError as ParseSignalError } from '../../src/oci/signals.js';
import { SignalError as SendSignalError } from '../../src/actors/effects/signal-container.js';
import { PlanError, SignalError } from '../../src/errors.js';

const allowed = (pred: (s: ContainerStatus) => boolean) => CONTAINER_STATUSES.filter(pred);

describe('the chart’s predicates', () => {
  it('queries: ps and OOM kills also once stopped, stats and files only while the init is there, nothing while creating', () => {
    assert.deepEqual(allowed((s) => canQuery(s, 'processes')), ['created', 'running', 'paused', 'stopped']);
    assert.deepEqual(allowed((s) => canQuery(s, 'live')), ['created', 'running', 'paused']);
    assert.equal(refusalError('web', 'stopped', 'get stats of').message, 'cannot get stats of container "web" in state stopped');
    assert.equal(refusalError('web', 'stopped', 'get stats of').code, 'bad_state');
  });

  it('a sandbox takes children while created or running', () => {
    assert.deepEqual(allowed(canHostChildren), ['created', 'running']);
  });

  it('an exit is leaving created, running or paused for stopped', () => {
    assert.deepEqual(allowed(hasInit), ['created', 'running', 'paused']);
    assert.deepEqual(allowed((s) => isExit(s, 'stopped')), ['created', 'running', 'paused']);
    assert.equal(isExit('running', 'paused'), false);
  });

  it('statuses of state names and stored snapshots', () => {
    assert.equal(statusOfState('paused.resuming'), 'paused');
    assert.equal(statusOfState(''), 'creating', 'the first record comes from no state');
    assert.equal(statusOfStored({ value: { running: 'idle' } }), 'running');
    assert.equal(statusOfStored({ value: 'nonsense' }), undefined);
    assert.equal(statusOfStored(null), undefined);
  });

  it('a resting snapshot starts nothing when restored', () => {
    const at = (value: unknown, deleteAfterResume?: boolean) => ({ value, context: deleteAfterResume === undefined ? undefined : { deleteAfterResume } });
    assert.equal(isResting(at({ created: 'idle' }, false)), true);
    assert.equal(isResting(at({ creating: 'pending' }, false)), true);
    assert.equal(isResting(at({ running: 'idle' }, false)), true);
    assert.equal(isResting(at({ running: 'idle' }, true)), false, 'a force delete continues from running.idle');
    assert.equal(isResting(at({ running: 'idle' })), false, 'a snapshot without the flag is not trusted');
    assert.equal(isResting(at({ created: 'starting' }, false)), false);
    assert.equal(isResting(at({ stopped: 'deleted' }, false)), false, 'final: not a record that rests');
  });

  it('a failed start tears down unless it was refused or lost a write race', () => {
    assert.equal(startFailureTearsDown(Object.assign(new Error('hook failed'), { code: 'sys' })), true);
    assert.equal(startFailureTearsDown(new Error('no code')), true);
    assert.equal(startFailureTearsDown(refusalError('web', 'stopped', 'start')), false);
    assert.equal(startFailureTearsDown(Object.assign(new Error('moved'), { code: 'conflict' })), false);
  });

  it('deleting a sandbox stops its children first', () => {
    assert.equal(deleteStopsChildren({ id: 'pod', sandboxId: 'pod' }), true);
    assert.equal(deleteStopsChildren({ id: 'child', sandboxId: 'pod' }), false);
  });
});

describe('one error class per kind', () => {
  it('PlanError and SignalError are each one class, wherever they are raised', () => {
    assert.equal(EncoderPlanError, PlanError);
    assert.equal(BuilderPlanError, PlanError);
    assert.equal(ParseSignalError, SignalError);
    assert.equal(SendSignalError, SignalError);
  });
});

// Outside the chart, a status is only rendered (state output, hook state JSON) — never compared to decide something.
describe('no rules outside the chart', () => {
  const STATUS = /'(creating|created|running|paused|stopped)'/;
  // The OCI state shapes (src/oci: the pid of a stopped container is 0) and the state each hook is given (the
  // runtime spec fixes it): rendering, not rules.
  const src = fileURLToPath(new URL('../../src', import.meta.url));
  const rendering = (file: string, line: string) => file.startsWith(join(src, 'oci')) || /hookState\(/.test(line);

  /** `file:line: text` of every line of src outside src/machines that `bad` says is a rule. */
  function linesOutsideTheChart(bad: (file: string, line: string) => boolean): string[] {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) {
          if (p !== join(src, 'machines')) walk(p);
        } else if (p.endsWith('.ts')) {
          readFileSync(p, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (bad(p, line)) found.push(`${relative(src, p)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk(src);
    return found;
  }

  it('no module but src/machines names a status', () => {
    assert.deepEqual(linesOutsideTheChart((file, line) => STATUS.test(line) && !rendering(file, line)), []);
  });

  it('every refusal about a container’s state is built by src/machines', () => {
    // What remains refuses for the state of something else: a frozen cgroup someone else owns, a root a supervisor
    // serves, a process the supervisor waits for.
    const others = new Set(['linux/cgroups/manager.ts', 'actors/repair.ts', 'supervisor/client.ts'].map((f) => join(src, f)));
    assert.deepEqual(linesOutsideTheChart((file, line) => /Error\('bad_state'/.test(line) && !others.has(file)), []);
  });
});
