/**
 * The visualizer's HTTP server (node:http, no framework): the page, the chart, two JSON endpoints and a
 * server-sent-events stream of the root's feed. Read-only: nothing here changes a container.
 *
 *   GET /                              the page (src/ui/page.ts)
 *   GET /chart.svg                     the container statechart (src/ui/chart.ts)
 *   GET /api/containers                states, each with `leaf`: its current leaf state (e.g. "running.idle")
 *   GET /api/containers/<id>/history   its transition log
 *   GET /events                        text/event-stream of RuntimeEvents (id = feed cursor; reconnects resume)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { containerMachine } from '../machines/container.js';
import type { TransitionRecord } from '../persistence/store.js';
import type { ContainerState } from '../operations/types.js';
import type { EventsOptions, RuntimeEvent } from '../operations/events.js';
import { loadChart } from './chart.js';
import { DEFAULT_LISTEN, hostAllowed, parseListen, UiError } from './listen.js';
import { pageHtml } from './page.js';

/** What the visualizer reads: a Runtime, or anything with these calls (tests pass fakes). */
export interface UiSource {
  readonly root: string;
  list(): Promise<ContainerState[]>;
  history(id: string): Promise<TransitionRecord[]>;
  events(opts?: EventsOptions): AsyncIterable<RuntimeEvent>;
}

export interface UiOptions {
  /** HOST:PORT (default 127.0.0.1:7433; port 0 picks a free one). A non-loopback host must be given explicitly. */
  listen?: string;
  log?: Logger;
  /** Chart markup to serve instead of the generated SVG (tests). */
  chart?: string;
  /** SSE keep-alive comment interval (ms, default 15000). */
  heartbeatMs?: number;
}

/** A running visualizer. */
export interface UiServer {
  /** e.g. http://127.0.0.1:7433/ */
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  'referrer-policy': 'no-referrer',
};

/**
 * Serves the visualizer for `source` until `close()`.
 * @example const ui = await serveUi(runtime, { listen: '127.0.0.1:0' }); console.log(ui.url);
 */
export async function serveUi(source: UiSource, opts: UiOptions = {}): Promise<UiServer> {
  const listen = parseListen(opts.listen ?? DEFAULT_LISTEN);
  const log = opts.log ?? pino({ level: 'silent' });
  if (listen.exposed) log.warn({ host: listen.host }, 'the visualizer is served beyond loopback: anyone who can reach it sees every container of this root');
  let chart: string | undefined = opts.chart;
  const streams = new Set<AbortController>();

  const server = createServer((req, res) => {
    void route(req, res).catch((e) => {
      log.warn({ url: req.url, err: (e as Error).message }, 'visualizer request failed');
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: (e as Error).message }));
      else res.end();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, listen)) return send(res, 403, 'text/plain', 'forbidden: use a loopback address (127.0.0.1, localhost)\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'read-only: GET only\n');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', pageHtml(source.root));
    if (path === '/chart.svg') return send(res, 200, 'image/svg+xml', (chart ??= loadChart(containerMachine())));
    if (path === '/api/containers') return send(res, 200, 'application/json', JSON.stringify(await containersWithLeaf(source)));
    const m = /^\/api\/containers\/([^/]+)\/history$/.exec(path);
    if (m) {
      try {
        return send(res, 200, 'application/json', JSON.stringify(await source.history(decodeURIComponent(m[1]))));
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'not_found' || code === 'ambiguous' || code === 'bad_config') return send(res, 404, 'application/json', JSON.stringify({ error: (e as Error).message }));
        throw e;
      }
    }
    if (path === '/events') return stream(req, res, url);
    return send(res, 404, 'text/plain', 'not found\n');
  }

  async function stream(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const resume = req.headers['last-event-id'] ?? url.searchParams.get('since') ?? undefined;
    const since = resume !== undefined && /^\d+$/.test(String(resume)) ? Number(resume) : undefined;
    const ac = new AbortController();
    streams.add(ac);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), opts.heartbeatMs ?? 15_000);
    const end = () => ac.abort();
    req.on('close', end);
    try {
      for await (const ev of source.events({ since, signal: ac.signal })) {
        res.write(`id: ${ev.cursor}\ndata: ${JSON.stringify(ev)}\n\n`);
      }
    } finally {
      clearInterval(heartbeat);
      req.off('close', end);
      streams.delete(ac);
      res.end();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UiError('sys', `cannot serve the visualizer on ${listen.host}:${listen.port}: ${e.code ?? e.message}; pick another --listen`, { cause: e })),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/`;
  log.info({ url }, 'visualizer listening');
  return {
    url,
    async close() {
      for (const ac of streams) ac.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** list() plus each container's current leaf state (the `to` of its last transition). */
async function containersWithLeaf(source: UiSource): Promise<(ContainerState & { leaf?: string })[]> {
  const states = await source.list();
  return Promise.all(
    states.map(async (s) => {
      try {
        const h = await source.history(s.id);
        return { ...s, leaf: h[h.length - 1]?.to };
      } catch {
        return s;
      }
    }),
  );
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
