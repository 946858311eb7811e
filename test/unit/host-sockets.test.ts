// A host's sockets at their well-known paths — <root>/host/front.sock (FrontHost) and <root>/supervisor.sock
// (ControlServer) — against two hosts of one root (`runts supervise` and one a front started, or two supervisors
// started together). Each checks that nothing answers at the path, then puts its own socket there in place of what a
// dead host left: whoever comes second must find the path taken (`exists`), not take it from under the first one
// (leaving it serving a name nobody can reach) nor fail otherwise; a host that closes removes only its own socket
// (src/supervisor/listen-socket.ts: ClaimedSocket).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { FrontHost, frontSocketPath } from '../../src/supervisor/front-host.js';
import { ControlServer } from '../../src/supervisor/server.js';
import { socketPath } from '../../src/supervisor/protocol.js';
import { socketAnswers } from '../../src/supervisor/call.js';

const log = pino({ level: 'silent' });
const noRuntime = () => {
  throw new Error('no command runs in this test');
};

/** Each kind of host socket: where it lives, how a host starts serving it, what says it is taken. */
const KINDS = [
  {
    name: 'the front socket',
    path: frontSocketPath,
    listen: (root: string) => FrontHost.listen(root, noRuntime, log),
    taken: /^a runts host already serves .* stop it first, or use another --root$/,
  },
  {
    name: 'the control socket',
    path: socketPath,
    listen: (root: string) => ControlServer.listen(root, socketPath(root), () => Promise.reject(new Error('no request in this test')), log),
    taken: /^(a|another) supervisor (\(pid \d+\) )?already serves .* stop it first, or use another --root$/,
  },
];

/** Leaves a socket file at `path` that nobody listens on: a host that died without removing it. */
function leaveDeadSocket(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
  assert.equal(died.status, 0, String(died.stderr));
  assert.ok(lstatSync(path).isSocket());
}

async function inRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'runts-host-sockets-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

for (const kind of KINDS) {
  describe(`${kind.name}: two hosts of one root`, () => {
    for (const before of ['nothing', 'a dead host\'s socket'] as const) {
      test(`with ${before} at the path, the second to claim it answers "exists"; the first keeps it`, () =>
        inRoot(async (root) => {
          const path = kind.path(root);
          if (before !== 'nothing') leaveDeadSocket(path);
          // Both pass the "nothing answers" check before either binds: the interleaving two processes can have.
          const results = await Promise.allSettled([kind.listen(root), kind.listen(root)]);
          const hosts = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
          const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string; message: string }] : []));
          try {
            assert.equal(hosts.length, 1, 'one host serves');
            assert.equal(errors.length, 1);
            assert.equal(errors[0]!.code, 'exists', errors[0]!.message);
            assert.match(errors[0]!.message, kind.taken);
            assert.ok(await socketAnswers(path), 'the socket at the path is the serving host\'s');
            await hosts[0]!.close();
            assert.equal(existsSync(path), false, 'the serving host removes its own socket when it closes');
          } finally {
            for (const h of hosts) await h.close();
          }
        }));
    }

    test('a socket a dead host left is replaced; one that answers is not', () =>
      inRoot(async (root) => {
        const path = kind.path(root);
        const first = await kind.listen(root);
        const ino = lstatSync(path).ino;
        await assert.rejects(kind.listen(root), { code: 'exists' });
        assert.equal(lstatSync(path).ino, ino, 'left in place');
        await first.close();
        leaveDeadSocket(path);
        const next = await kind.listen(root);
        try {
          assert.ok(await socketAnswers(path), 'the stale socket was replaced by one that answers');
        } finally {
          await next.close();
        }
      }));

    test('a host whose socket was removed and taken by another leaves that one in place when it closes', () =>
      inRoot(async (root) => {
        const path = kind.path(root);
        const first = await kind.listen(root);
        rmSync(path); // as `rm` by hand: the first host may not have closed yet when another starts
        const second = await kind.listen(root);
        try {
          await first.close();
          assert.ok(await socketAnswers(path), 'the second host\'s socket is still there');
        } finally {
          await second.close();
        }
        assert.equal(existsSync(path), false);
        const left = readdirSync(dirname(path)).filter((n) => n !== 'host' && n !== 'runts.mdb' && !n.startsWith('runts.mdb-'));
        assert.deepEqual(left, [`${path.split('/').pop()}.lock`], 'no socket of either host left, no name bound on the way');
      }));
  });
}
