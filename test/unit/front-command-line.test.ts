// Which command lines a warm host runs for the native front, and which go back to the caller's Node
// (src/supervisor/front-host.ts: parseCommandLine, fallbackReason).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fallbackReason, parseCommandLine } from '../../src/supervisor/front-host.js';

const why = (args: string[], cwd = '/') => fallbackReason(parseCommandLine(['node', 'runts', ...args]), cwd);

describe('front command lines', () => {
  test('create, run and exec with absolute paths are served; their options are read as commander reads them', () => {
    assert.equal(why(['--root', '/run/x', 'create', '--bundle', '/b', '--pid-file', '/p', 'id']), undefined);
    assert.equal(why(['--root=/run/x', 'create', 'id', '-b/b', '--console-socket=/s']), undefined);
    assert.equal(why(['run', '-d', '--bundle', '/b', 'id']), undefined);
    assert.equal(why(['exec', '-d', '--pid-file', '/p', 'id', 'sh', '-c', 'x']), undefined);
    // After the container, exec's words are the process's: its -t is not exec's.
    assert.equal(why(['exec', 'id', 'ls', '-t', '-p', 'rel']), undefined);
    const line = parseCommandLine(['node', 'runts', 'exec', '-dt', '-e', 'A=1', 'id', 'x', '-d']);
    assert.deepEqual([...line.options], [['detach', 'true'], ['tty', 'true'], ['env', 'A=1']]);
  });

  test('what only the caller can do goes back to it', () => {
    assert.equal(why(['create', 'id']), 'a relative bundle', 'the default bundle is the cwd');
    assert.equal(why(['run', '--bundle', 'b', 'id']), 'a relative bundle');
    assert.equal(why(['create', '--bundle', '/b', '--pid-file', 'p', 'id']), 'a relative --pid-file');
    assert.equal(why(['exec', '--process', 'p.json', 'id']), 'a relative --process');
    assert.equal(why(['exec', '--ignore-paused', 'id', 'x']), 'an exec that may wait for a resume');
    assert.equal(why(['exec', '-t', 'id', 'sh']), 'a terminal the caller relays');
    assert.equal(why(['exec', '-t', '--console-socket', '/s', 'id', 'sh']), undefined, 'the console socket takes the pty');
    assert.equal(why(['exec', '-t', '-d', 'id', 'sh']), undefined, 'detached: the command reports the missing socket');
    assert.equal(why(['create', '--bogus', 'id']), '--bogus is read by the caller');
    assert.equal(why(['create', '-h']), '-h is read by the caller');
    assert.equal(why(['spec']), 'spec is run by the caller');
    assert.equal(why(['--log', 'l', 'state', 'x']), '--log is relative');
  });

  test('a foreground run whose config asks for a terminal goes back to the caller, which relays it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runts-front-line-'));
    try {
      const bundle = join(dir, 'b');
      mkdirSync(bundle);
      writeFileSync(join(bundle, 'config.json'), JSON.stringify({ process: { terminal: true } }));
      assert.equal(why(['run', '--bundle', bundle, 'id']), 'a terminal the caller relays');
      assert.equal(why(['run', '-d', '--bundle', bundle, 'id']), undefined);
      writeFileSync(join(bundle, 'config.json'), JSON.stringify({ process: { terminal: false } }));
      assert.equal(why(['run', '--bundle', bundle, 'id']), undefined);
      writeFileSync(join(dir, 'p.json'), JSON.stringify({ terminal: true, args: ['sh'] }));
      assert.equal(why(['exec', '--process', join(dir, 'p.json'), 'id']), 'a terminal the caller relays');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
