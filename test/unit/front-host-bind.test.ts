// Two warm hosts starting together on one root (`runts supervise` and one a front started): each checks that no
// host answers on <root>/host/front.sock, then removes what a dead host left there and binds. Whoever comes second
// must find the socket taken (`exists`), not remove the first one's socket and bind its own (leaving the first host
// serving a name nobody can reach), nor fail with EADDRINUSE (src/supervisor/front-host.ts: bindUnlessClaimed).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FrontHost, frontSocketPath } from '../../src/supervisor/front-host.js';
import { socketAnswers } from '../../src/supervisor/call.js';

const log = pino({ level: 'silent' });
const noRuntime = () => {
  throw new Error('no command runs in this test');
};

describe('front socket: two hosts starting together', () => {
  /** Leaves a socket file at the front's path that nobody listens on: a host that died without removing it. */
  const leaveDeadSocket = (root: string) => {
    mkdirSync(join(root, 'host'), { recursive: true, mode: 0o700 });
    const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(frontSocketPath(root))}, () => process.exit(0))`]);
    assert.equal(died.status, 0, String(died.stderr));
    assert.ok(lstatSync(frontSocketPath(root)).isSocket());
  };

  for (const before of ['nothing', 'a dead host\'s socket'] as const) {
    test(`with ${before} at the path, the second to bind answers "exists"; the first keeps the socket it bound`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'runts-front-bind-'));
      try {
        if (before !== 'nothing') leaveDeadSocket(root);
        // Both pass the "nothing answers" check before either binds: the interleaving two processes can have.
        const results = await Promise.allSettled([FrontHost.listen(root, noRuntime, log), FrontHost.listen(root, noRuntime, log)]);
        const hosts = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string; message: string }] : []));
        try {
          assert.equal(hosts.length, 1, 'one host serves');
          assert.equal(errors.length, 1);
          assert.equal(errors[0]!.code, 'exists', errors[0]!.message);
          assert.match(errors[0]!.message, /a runts host already serves .* stop it first, or use another --root/);
          assert.ok(await socketAnswers(frontSocketPath(root)), 'the socket at the path is the serving host\'s');
          await hosts[0]!.close();
          assert.equal(existsSync(frontSocketPath(root)), false, 'the serving host removes its own socket when it closes');
        } finally {
          for (const h of hosts) await h.close();
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  test('a socket a dead host left is replaced; one that answers is not', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runts-front-bind-'));
    try {
      const first = await FrontHost.listen(root, noRuntime, log);
      const ino = lstatSync(frontSocketPath(root)).ino;
      await assert.rejects(FrontHost.listen(root, noRuntime, log), { code: 'exists' });
      assert.equal(lstatSync(frontSocketPath(root)).ino, ino, 'left in place');
      await first.close();
      leaveDeadSocket(root);
      const next = await FrontHost.listen(root, noRuntime, log);
      try {
        assert.ok(await socketAnswers(frontSocketPath(root)), 'the stale socket was replaced by one that answers');
      } finally {
        await next.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
