// The CLI surface of CONTRACT.md that needs no container: help, version, spec, features, exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTS } from '../helpers/runts.js';

const runts = (args: string[], cwd?: string) => spawnSync(RUNTS, args, { encoding: 'utf8', cwd });

describe('cli', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'runts-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

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
    const f = runts(['--root', dir, 'state']);
    assert.notEqual(f.status, 0);
    assert.match(f.stderr, /missing required argument/);
  });

  test('a global option whose value is a command name does not pick the command (only the invoked one is built)', () => {
    // --root's value "list" and --log-format's "json" are values, not commands: the command is "state" / "list".
    const st = runts(['--root', join(dir, 'list'), '--log-format', 'json', 'state', 'nosuch']);
    assert.equal(st.stderr.trim(), 'runts: container "nosuch" does not exist');
    const ls = runts(['--root', join(dir, 'list'), 'list', '--format', 'json']);
    assert.equal(ls.status, 0, ls.stderr);
    assert.deepEqual(JSON.parse(ls.stdout), []);
    // The suggestion for a mistyped command needs every command registered.
    assert.match(runts(['stat']).stderr, /Did you mean one of start, state\?/);
    assert.match(runts(['help', 'list']).stdout, /Usage: runts list\|ps-all/);
  });

  test('state of an unknown container is an error naming it', () => {
    const r = runts(['--root', join(dir, 'state'), 'state', 'nosuch']);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim(), 'runts: container "nosuch" does not exist');
  });
});
