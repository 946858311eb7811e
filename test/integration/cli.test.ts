// The CLI surface of CONTRACT.md that needs no container: help, version, spec, features, exit codes. Run twice:
// through Node (no warm host) and with a warm host serving the root (bin/runts hands it what it serves).
import { after, before, describe, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_AUTOSTART, RUNTS, startHost, stopHost } from '../helpers/runts.js';

for (const path of ['node', 'host'] as const)
describe(`cli (${path})`, () => {
  let dir: string;
  // The state root; named "list" on purpose (a global option's value that is also a command's name).
  let root: string;
  let host: ChildProcess | undefined;
  const runts = (args: string[], cwd?: string) =>
    spawnSync(RUNTS, args.includes('--root') ? args : ['--root', root, ...args], { encoding: 'utf8', cwd, env: { ...process.env, ...NO_AUTOSTART } });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runts-cli-'));
    root = join(dir, 'list');
    if (path === 'host') {
      assert.equal(runts(['list']).status, 0);
      host = await startHost(root);
    }
  });
  after(async () => {
    if (host) await stopHost(host);
    rmSync(dir, { recursive: true, force: true });
  });

  test('--version and --help, from another directory by absolute path', () => {
    const v = runts(['--version'], '/');
    assert.equal(v.status, 0);
    // runc's shape: "<name> version X", then the spec version.
    assert.match(v.stdout, /^runts version \d+\.\d+\.\d+\nspec: \d+\.\d+\.\d+\n$/);
    const help = runts(['--help'], '/').stdout;
    for (const cmd of ['create', 'start', 'state', 'kill', 'delete', 'run', 'list', 'spec', 'features']) {
      assert.match(help, new RegExp(`^\\s+${cmd}\\b`, 'm'), `help lists ${cmd}`);
    }
    for (const flag of ['--root', '--log', '--log-format', '--debug', '--systemd-cgroup']) assert.ok(help.includes(flag), flag);
    assert.match(runts(['create', '--help']).stdout, /--console-socket/);
  });

  test('help in runc\'s shape: runts -h, runts <cmd> -h, runts help <cmd>', () => {
    const top = runts(['-h']);
    assert.equal(top.status, 0);
    const headings = top.stdout.split('\n').filter((l) => /^[A-Z ]+:$/.test(l));
    assert.deepEqual(headings, ['NAME:', 'USAGE:', 'VERSION:', 'COMMANDS:', 'GLOBAL OPTIONS:']);
    assert.match(top.stdout, /^NAME:\n   runts - .+\n\nUSAGE:\n   runts \[global options\] command \[command options\] \[arguments\.\.\.\]\n/);
    assert.match(top.stdout, /^   list, ps-all +list containers$/m);
    assert.match(top.stdout, /^   --root value +state root directory/m);
    assert.match(top.stdout, /^   --help, -h +show help$/m);

    const exec = runts(['exec', '-h']);
    assert.equal(exec.status, 0);
    assert.match(exec.stdout, /^NAME:\n   runts exec - .+\n\nUSAGE:\n   runts exec \[command options\] <container-id> \[command\.\.\.\]\n\nOPTIONS:\n/);
    for (const term of ['--process value, -p value', '--env value, -e value', '--tty, -t', '--cgroup value', '--ignore-paused', '--preserve-fds value']) {
      assert.match(exec.stdout, new RegExp(`^   ${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  `, 'm'), term);
    }
    assert.equal(runts(['help', 'exec']).stdout, exec.stdout);
    assert.equal(runts(['exec', '--help']).stdout, exec.stdout);

    const none = runts(['help', 'nosuch']);
    assert.notEqual(none.status, 0);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, "runts: no help topic for 'nosuch': see runts --help\n");
  });

  test('spec writes runc\'s default config, and refuses to overwrite it', () => {
    assert.equal(runts(['spec'], dir).status, 0);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(spec.process.args, ['sh']);
    assert.equal(spec.root.path, 'rootfs');
    const again = runts(['spec'], dir);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /already exists/);
    assert.equal(runts(['spec', '--rootless', '--bundle', mkdtempSync(join(dir, 'r-'))]).status, 0);
  });

  test('features prints JSON of what runts supports', () => {
    const f = JSON.parse(runts(['features']).stdout);
    assert.ok(f.linux.namespaces.includes('pid'));
    assert.ok(f.hooks.includes('createContainer'));
  });

  test('an unknown command or flag fails with one clear line', () => {
    const r = runts(['frobnicate']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    // Asking for the help of a command that does not exist fails too (as runc), instead of the general help.
    const h = runts(['frobnicate', '-h']);
    assert.notEqual(h.status, 0);
    assert.equal(h.stdout, '');
    assert.equal(h.stderr, "runts: unknown command 'frobnicate': see runts --help\n");
    assert.equal(runts(['help', 'kill']).status, 0);
    const f = runts(['state']);
    assert.notEqual(f.status, 0);
    assert.match(f.stderr, /missing required argument/);
  });

  test('a global option whose value is a command name does not pick the command (only the invoked one is built)', () => {
    // --root's value "list" and --log-format's "json" are values, not commands: the command is "state" / "list".
    const st = runts(['--root', root, '--log-format', 'json', 'state', 'nosuch']);
    assert.equal(st.stderr.trim(), 'runts: container "nosuch" does not exist');
    const ls = runts(['--root', root, 'list', '--format', 'json']);
    assert.equal(ls.status, 0, ls.stderr);
    assert.deepEqual(JSON.parse(ls.stdout), []);
    // The suggestion for a mistyped command needs every command registered.
    assert.match(runts(['stat']).stderr, /Did you mean one of start, state\?/);
    assert.match(runts(['help', 'list']).stdout, /^USAGE:\n   runts list \[command options\]\n\nALIASES:\n   ps-all\n/m);
  });

  test('state of an unknown container is an error naming it', () => {
    const r = runts(['state', 'nosuch']);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim(), 'runts: container "nosuch" does not exist');
  });
});
