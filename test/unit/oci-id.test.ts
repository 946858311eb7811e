import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdError, isValidId, MAX_ID_LENGTH, resolveContainerId, validateId, type IdUse } from '../../src/oci/id.js';
import { SCHEMA_VERSION, Store } from '../../src/persistence/store.js';
import { sampleFacts } from '../helpers/facts.js';
import { nativePort } from '../../src/native/index.js';

function message(id: string): string {
  try {
    validateId(id);
  } catch (e) {
    assert.ok(e instanceof IdError);
    assert.equal(e.code, 'bad_config');
    assert.ok(!e.message.includes('\n'));
    return e.message;
  }
  assert.fail(`id ${JSON.stringify(id).slice(0, 80)} was accepted`);
}

describe('validateId', () => {
  it('accepts letters, digits, _ + - .', () => {
    for (const id of ['a', 'web-1', 'A_b.c+d', '0', '...', 'a..b', 'x'.repeat(255), '.hidden']) {
      assert.equal(validateId(id), id);
      assert.equal(isValidId(id), true);
    }
  });

  it('refuses "/" and other characters', () => {
    assert.equal(message('a/b'), 'invalid container id "a/b": use letters, digits, _ + - . only');
    assert.equal(message('../etc'), 'invalid container id "../etc": use letters, digits, _ + - . only');
    assert.equal(message(''), 'invalid container id "": use letters, digits, _ + - . only');
    assert.equal(message('a b'), 'invalid container id "a b": use letters, digits, _ + - . only');
    assert.equal(message('é'), 'invalid container id "é": use letters, digits, _ + - . only');
    assert.equal(message('abc\n'), 'invalid container id "abc\\n": use letters, digits, _ + - . only');
  });

  it('escapes a NUL', () => {
    assert.equal(message('a\0b'), 'invalid container id "a\\u0000b": use letters, digits, _ + - . only');
  });

  it('refuses "." and ".."', () => {
    assert.match(message('.'), /^invalid container id "\.": "\." and "\.\." are not allowed/);
    assert.match(message('..'), /^invalid container id "\.\.": /);
    assert.equal(isValidId('..'), false);
  });

  it('refuses a 1 MB id with a short message', () => {
    const huge = 'a'.repeat(1024 * 1024);
    const msg = message(huge);
    assert.ok(msg.length < 150, `message is ${msg.length} chars`);
    assert.equal(msg, `invalid container id "${'a'.repeat(63)}… (1048576 characters): use at most 255 (it names a directory)`);
    assert.equal(isValidId(huge), false);
  });

  it('refuses ids longer than a directory name (255 bytes), which end in ENAMETOOLONG otherwise', () => {
    assert.equal(MAX_ID_LENGTH, 255);
    for (const n of [256, 300, 1024, 1025]) {
      assert.equal(message('x'.repeat(n)), `invalid container id "${'x'.repeat(63)}… (${n} characters): use at most 255 (it names a directory)`);
      assert.equal(isValidId('x'.repeat(n)), false);
    }
  });

  it('cuts an invalid id in the message at 64 characters', () => {
    const msg = message('/'.repeat(200));
    assert.equal(msg, `invalid container id "${'/'.repeat(63)}…: use letters, digits, _ + - . only`);
  });
});

describe('resolveContainerId: abbreviated ids for reading, exact ids for changes', () => {
  let dir = '';
  let store: Store;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-id-'));
    store = Store.open(dir, nativePort());
    for (const id of ['abc', 'abcd', 'web-1', 'web-2', 'solo-container']) {
      store.insert({ facts: sampleFacts(id), snapshot: { value: { creating: 'pending' } }, schemaVersion: SCHEMA_VERSION, machineVersion: 'container/1' });
    }
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const codeOf = (id: string, use: IdUse): string => {
    try {
      resolveContainerId(store, id, use);
    } catch (e) {
      assert.ok(!(e as Error).message.includes('\n'));
      return (e as IdError).code;
    }
    return 'resolved';
  };

  it('an exact id is found for both uses, even when a longer id starts with it', () => {
    for (const use of ['read', 'change'] as const) {
      assert.equal(resolveContainerId(store, 'abc', use), 'abc');
      assert.equal(resolveContainerId(store, 'abcd', use), 'abcd');
    }
  });

  it('a read resolves a unique prefix, and reports an ambiguous one', () => {
    assert.equal(resolveContainerId(store, 'solo', 'read'), 'solo-container');
    assert.equal(codeOf('web-', 'read'), 'ambiguous');
    assert.equal(codeOf('nope', 'read'), 'not_found');
  });

  it('a change never resolves a prefix: the exact id, else "does not exist"', () => {
    assert.throws(() => resolveContainerId(store, 'solo', 'change'), { code: 'not_found', message: 'container "solo" does not exist' });
    assert.equal(codeOf('web-', 'change'), 'not_found', 'several ids start with it: still just not found');
    assert.equal(codeOf('nope', 'change'), 'not_found');
  });

  it('an invalid id is refused before any lookup', () => {
    assert.equal(codeOf('../abc', 'read'), 'bad_config');
    assert.equal(codeOf('a'.repeat(256), 'change'), 'bad_config');
  });
});
