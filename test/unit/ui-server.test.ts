// The visualizer's HTTP server (src/ui/server.ts) against a fake source: routes, the Host check, read-only-ness,
// and the server-sent events stream (including resuming after the last event id).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ContainerState } from '../../src/runtime.js';
import type { TransitionRecord } from '../../src/persistence/store.js';
import type { EventsOptions, RuntimeEvent } from '../../src/operations/events.js';
import { serveUi, type UiServer, type UiSource } from '../../src/ui/server.js';

const state = (id: string, status: ContainerState['status']): ContainerState => ({
  ociVersion: '1.2.0', id, pid: 42, status, bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00.000Z', owner: 'root', sandbox: id,
});
const rec = (seq: number, from: string, to: string, event: string): TransitionRecord => ({ id: 'web', seq, from, to, event, time: '2026-01-01T00:00:00.000Z', pid: 7 });

/** A source whose events are pushed by the test; `since` replays the pushed events after that cursor. */
class FakeSource implements UiSource {
  readonly root = '/run/fake';
  readonly pushed: RuntimeEvent[] = [];
  private waiters: (() => void)[] = [];
  sinceSeen: (number | undefined)[] = [];
  async list() {
    return [state('web', 'running')];
  }
  async history(id: string) {
    if (id !== 'web') throw Object.assign(new Error(`container "${id}" has no history`), { code: 'not_found' });
    return [rec(1, '', 'creating.pending', 'xstate.init'), rec(2, 'created.starting', 'running.idle', 'xstate.done.actor.startInit')];
  }
  push(ev: RuntimeEvent) {
    this.pushed.push(ev);
    for (const w of this.waiters.splice(0)) w();
  }
  async *events(opts: EventsOptions = {}): AsyncGenerator<RuntimeEvent> {
    this.sinceSeen.push(opts.since);
    let next = opts.since === undefined ? this.pushed.length : this.pushed.findIndex((e) => e.cursor > opts.since!);
    if (next < 0) next = this.pushed.length;
    while (!opts.signal?.aborted) {
      while (next < this.pushed.length) yield this.pushed[next++];
      await new Promise<void>((r) => {
        this.waiters.push(r);
        opts.signal?.addEventListener('abort', () => r(), { once: true });
      });
    }
  }
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens /events and collects `data:` payloads until `count` arrived. */
function sse(url: string, count: number, headers: Record<string, string> = {}): { events: Promise<RuntimeEvent[]>; close(): void } {
  const got: RuntimeEvent[] = [];
  let req: ReturnType<typeof request>;
  const events = new Promise<RuntimeEvent[]>((resolve, reject) => {
    req = request(url, { headers }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let i; (i = buf.indexOf('\n\n')) >= 0; ) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(block);
          if (data) got.push(JSON.parse(data[1]));
          if (got.length === count) resolve(got);
        }
      });
    });
    req.on('error', (e) => (got.length >= count ? undefined : reject(e)));
    req.end();
  });
  return { events, close: () => req.destroy() };
}

const moved = (cursor: number, to: string): RuntimeEvent => ({
  type: 'transition', cursor, id: 'web', seq: cursor, from: 'running.idle', to, status: to.split('.')[0] as never, event: 'container.pause', time: '2026-01-01T00:00:00.000Z', pid: 9,
});

describe('visualizer server', () => {
  let source: FakeSource;
  let ui: UiServer;
  before(async () => {
    source = new FakeSource();
    ui = await serveUi(source, { listen: '127.0.0.1:0', chart: '<svg><g class="node"><title>running.idle</title></g></svg>' });
  });
  after(() => ui.close());

  test('listens on loopback with the port it was given (0: a free one)', () => {
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('the page, the chart, the container list with leaf states, and history', async () => {
    const page = await get(ui.url);
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.body, /id="chart"/);
    assert.match(page.body, /\/run\/fake/);
    assert.match(page.body, /new EventSource\('events'\)/);
    const chart = await get(`${ui.url}chart.svg`);
    assert.equal(chart.type, 'image/svg+xml');
    assert.match(chart.body, /<title>running.idle<\/title>/);
    const list = JSON.parse((await get(`${ui.url}api/containers`)).body);
    assert.deepEqual(list.map((c: { id: string; status: string; leaf: string }) => [c.id, c.status, c.leaf]), [['web', 'running', 'running.idle']]);
    const history = await get(`${ui.url}api/containers/web/history`);
    assert.equal(JSON.parse(history.body).length, 2);
    const missing = await get(`${ui.url}api/containers/nope/history`);
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).error, /"nope" has no history/);
    assert.equal((await get(`${ui.url}nothing-here`)).status, 404);
  });

  test('read-only and loopback-only: other methods are refused, and so are foreign Host names', async () => {
    assert.equal((await get(ui.url, {}, 'POST')).status, 405);
    const rebound = await get(ui.url, { host: 'attacker.example' });
    assert.equal(rebound.status, 403);
    assert.equal((await get(ui.url, { host: 'localhost' })).status, 200);
  });

  test('/events streams each event as it comes, with its cursor as the event id; Last-Event-ID resumes', async () => {
    const stream = sse(`${ui.url}events`, 2);
    // The stream starts "from now": wait until the server subscribed before pushing.
    for (let i = 0; i < 100 && source.sinceSeen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    source.push(moved(1, 'running.pausing'));
    source.push(moved(2, 'paused.idle'));
    const events = await stream.events;
    stream.close();
    assert.deepEqual(events.map((e) => [e.cursor, e.type === 'transition' ? e.to : '']), [[1, 'running.pausing'], [2, 'paused.idle']]);

    const resumed = sse(`${ui.url}events`, 1, { 'last-event-id': '1' });
    const again = await resumed.events;
    resumed.close();
    assert.deepEqual(again.map((e) => e.cursor), [2]);
    assert.equal(source.sinceSeen.at(-1), 1);
  });
});
