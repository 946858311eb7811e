// The visualizer in a real browser (Debian's Chromium, driven by playwright-core): start `runts ui`, start a
// container from the CLI, open the page and see it running; pause, resume and delete it from the CLI and see each
// change highlighted on the page WITHOUT reloading it. Saves test-artifacts/visualizer.png (while paused).
// Skipped when /usr/bin/chromium is missing (scripts/setup.sh installs it) or when not root (real containers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO, RUNTS, Sandbox, isRoot } from '../helpers/runts.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh does)` : !isRoot ? 'needs root: real containers' : false;
const SCREENSHOT = join(REPO, 'test-artifacts', 'visualizer.png');

/** Starts `runts ui` on a free loopback port and resolves its URL (from the line it prints). */
function startUi(sb: Sandbox): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(RUNTS, ['--root', sb.root, 'ui', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`runts ui printed no URL: ${out}${err}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /visualizer at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.once('exit', (code) => reject(new Error(`runts ui exited (${code}): ${err}`)));
  });
}

const row = (id: string, status: string) => `#containers tr[data-id="${id}"][data-status="${status}"]`;

/** The chart's highlighted node and cluster, as the page marks them. */
async function highlighted(page: Page): Promise<{ current: string | null; node: string[]; cluster: string[] }> {
  return page.evaluate(() => ({
    current: document.getElementById('chart')!.getAttribute('data-current'),
    node: [...document.querySelectorAll('#chart g.node.current > title')].map((t) => t.textContent ?? ''),
    cluster: [...document.querySelectorAll('#chart g.cluster.current > title')].map((t) => t.textContent ?? ''),
  }));
}

describe('visualizer in a browser', { skip }, () => {
  let sb: Sandbox;
  let ui: { child: ChildProcess; url: string } | undefined;
  let context: BrowserContext | undefined;
  let profile: string;

  before(async () => {
    sb = new Sandbox();
    profile = mkdtempSync(join(tmpdir(), 'runts-chromium-'));
    ui = await startUi(sb);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
      ],
      viewport: { width: 1600, height: 1000 },
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (ui && ui.child.exitCode === null) {
      const gone = new Promise((r) => ui!.child.once('exit', r));
      ui.child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (ui.child.exitCode === null && ui.child.signalCode === null) ui.child.kill('SIGKILL');
    }
    sb.cleanup();
    rmSync(profile, { recursive: true, force: true });
  });

  test('a container\'s life, driven from the CLI, shows live on the page', async () => {
    const id = sb.id('web');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['sleep', '1000']));
    const run = (...args: string[]) => {
      const r = sb.runts(args);
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
    };
    run('run', '--detach', '--bundle', bundle, id);

    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
    await page.goto(ui!.url);
    await page.waitForSelector(row(id, 'running'));
    await page.waitForSelector('#live[data-state="open"]');
    await page.waitForFunction(() => document.getElementById('chart')!.getAttribute('data-current') === 'running.idle');
    assert.deepEqual(await highlighted(page), { current: 'running.idle', node: ['running.idle'], cluster: ['cluster_running'] });
    const pid = await page.textContent(`#containers tr[data-id="${id}"] .pid`);
    assert.equal(Number(pid), sb.state(id).pid);
    // A marker that a reload would wipe out: every later check must still find it.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    run('pause', id);
    await page.waitForSelector(row(id, 'paused'));
    await page.waitForFunction(() => document.getElementById('chart')!.getAttribute('data-current') === 'paused.idle');
    assert.deepEqual(await highlighted(page), { current: 'paused.idle', node: ['paused.idle'], cluster: ['cluster_paused'] });
    assert.equal(await page.textContent('#current-state'), 'paused.idle');
    // The timeline got the two moves of the pause.
    const timeline = await page.$$eval('#timeline tr', (rows) => rows.map((r) => r.children[3].textContent));
    assert.deepEqual(timeline.slice(-2), ['running.pausing', 'paused.idle']);
    mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(statSync(SCREENSHOT).size > 10_000, 'a real screenshot');

    run('resume', id);
    await page.waitForSelector(row(id, 'running'));
    await page.waitForFunction(() => document.getElementById('chart')!.getAttribute('data-current') === 'running.idle');
    assert.deepEqual((await highlighted(page)).cluster, ['cluster_running']);

    run('delete', '--force', id);
    await page.waitForSelector(row(id, 'deleted'));
    await page.waitForFunction(() => document.getElementById('chart')!.getAttribute('data-current') === 'stopped.deleted');
    assert.deepEqual(await highlighted(page), { current: 'stopped.deleted', node: ['stopped.deleted'], cluster: ['cluster_stopped'] });

    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was never reloaded');
    assert.deepEqual(problems, []);
  });
});
