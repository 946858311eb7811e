import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IdError, isValidId, validateId } from '../../src/oci/id.js';

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
    for (const id of ['a', 'web-1', 'A_b.c+d', '0', '...', 'a..b', 'x'.repeat(1024), '.hidden']) {
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
    assert.equal(msg, `invalid container id "${'a'.repeat(63)}… (1048576 characters): use at most 1024`);
    assert.equal(message('x'.repeat(1025)).includes('(1025 characters)'), true);
    assert.equal(isValidId(huge), false);
  });

  it('cuts an invalid id in the message at 64 characters', () => {
    const msg = message('/'.repeat(500));
    assert.equal(msg, `invalid container id "${'/'.repeat(63)}…: use letters, digits, _ + - . only`);
  });
});
