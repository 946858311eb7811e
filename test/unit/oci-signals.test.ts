import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal, signalName, SignalError } from '../../src/oci/signals.js';

describe('parseSignal', () => {
  it('reads numbers and names in any case, with or without SIG', () => {
    const cases: [string, number][] = [
      ['9', 9], ['KILL', 9], ['SIGKILL', 9], ['kill', 9], ['sigkill', 9], ['SigKill', 9],
      ['15', 15], ['TERM', 15], ['sigterm', 15], ['HUP', 1], ['USR1', 10], ['SIGUSR2', 12],
      ['CHLD', 17], ['SIGCLD', 17], ['IOT', 6], ['ABRT', 6], ['POLL', 29], ['WINCH', 28], ['STOP', 19], ['SYS', 31],
      ['64', 64], ['1', 1],
      // 0 is the null signal (`kill ID 0` checks the container's init exists), as runc accepts it.
      ['0', 0],
    ];
    for (const [s, n] of cases) assert.equal(parseSignal(s), n, s);
  });

  it('reads real-time signals', () => {
    const cases: [string, number][] = [
      ['RTMIN', 34], ['SIGRTMIN', 34], ['rtmin+3', 37], ['SIGRTMIN+15', 49], ['RTMAX', 64], ['RTMAX-1', 63],
      ['sigrtmax-14', 50], ['RTMIN+30', 64],
    ];
    for (const [s, n] of cases) assert.equal(parseSignal(s), n, s);
  });

  it('refuses unknown signals with a one-line hint', () => {
    for (const s of ['FOO', '65', '-9', '', 'SIG', 'RTMIN-1', 'RTMAX+1', 'RTMIN+31', '9x', '1.5', 'SIGKILL\0']) {
      assert.throws(() => parseSignal(s), (e: unknown) => {
        assert.ok(e instanceof SignalError, s);
        assert.equal(e.code, 'bad_config');
        assert.equal(e.message, `unknown signal ${JSON.stringify(s)}: use a name like SIGTERM or a number`);
        return true;
      });
    }
  });

  it('cuts a huge name in the message', () => {
    assert.throws(() => parseSignal('X'.repeat(10000)), (e: unknown) => (e as Error).message.length < 150);
  });
});

describe('signalName', () => {
  it('gives canonical names', () => {
    assert.equal(signalName(9), 'SIGKILL');
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(29), 'SIGIO');
    assert.equal(signalName(17), 'SIGCHLD');
    assert.equal(signalName(34), 'SIGRTMIN');
    assert.equal(signalName(37), 'SIGRTMIN+3');
    assert.equal(signalName(49), 'SIGRTMIN+15');
    assert.equal(signalName(50), 'SIGRTMAX-14');
    assert.equal(signalName(64), 'SIGRTMAX');
    assert.equal(signalName(0), '0');
    assert.equal(signalName(99), '99');
  });

  it('round-trips every signal number', () => {
    for (let n = 1; n <= 64; n++) {
      if (n === 32 || n === 33) continue; // reserved by glibc/NPTL, no name
      assert.equal(parseSignal(signalName(n)), n, `signal ${n}`);
    }
  });
});
