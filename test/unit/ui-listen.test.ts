// --listen parsing and the loopback rules of the visualizer (src/ui/listen.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, isLoopback, parseListen } from '../../src/ui/listen.js';

describe('parseListen', () => {
  test('HOST:PORT, [V6]:PORT, :PORT and PORT', () => {
    assert.deepEqual(parseListen('127.0.0.1:7433'), { host: '127.0.0.1', port: 7433, exposed: false });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0, exposed: false });
    assert.deepEqual(parseListen(':8080'), { host: '127.0.0.1', port: 8080, exposed: false });
    assert.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000, exposed: false });
    assert.deepEqual(parseListen('localhost:1'), { host: 'localhost', port: 1, exposed: false });
  });

  test('a non-loopback host is allowed only because it was named, and is marked exposed', () => {
    assert.deepEqual(parseListen('0.0.0.0:7433'), { host: '0.0.0.0', port: 7433, exposed: true });
    assert.equal(parseListen('192.168.1.5:80').exposed, true);
  });

  test('garbage is a bad_config error naming the value', () => {
    for (const bad of ['', 'host', '1.2.3.4:', '1.2.3.4:99999', '[nope]:1', 'a:b:c']) {
      assert.throws(() => parseListen(bad), (e: Error & { code?: string }) => e.code === 'bad_config' && e.message.includes(`"${bad}"`), bad);
    }
  });
});

describe('loopback and Host checks', () => {
  test('isLoopback', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '128.0.0.1', '::']) assert.equal(isLoopback(h), false, h);
  });

  test('a loopback server answers loopback Host names only (no DNS rebinding); an exposed one answers any', () => {
    const local = parseListen('127.0.0.1:7433');
    assert.equal(hostAllowed('127.0.0.1:7433', local), true);
    assert.equal(hostAllowed('localhost:7433', local), true);
    assert.equal(hostAllowed('[::1]:7433', local), true);
    assert.equal(hostAllowed('evil.example:7433', local), false);
    assert.equal(hostAllowed(undefined, local), false);
    assert.equal(hostAllowed('evil.example', parseListen('0.0.0.0:7433')), true);
  });
});
