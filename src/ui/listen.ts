/**
 * Where the visualizer listens. Loopback unless the user names another address: the page shows every
 * container of the root (ids, bundles, pids), so it is not served to the network by default.
 */
import { isIP } from 'node:net';
import { RuntsError } from '../errors.js';

export class UiError extends RuntsError {}

/** Default address of `runts ui` and `runts supervise --listen` without a value. */
export const DEFAULT_LISTEN = '127.0.0.1:7433';

export interface ListenAddress {
  host: string;
  port: number;
  /** True when the host is not a loopback address (the user asked for it explicitly). */
  exposed: boolean;
}

/**
 * Parses "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (the host then is 127.0.0.1).
 * @example parseListen('127.0.0.1:0') // { host: '127.0.0.1', port: 0, exposed: false }
 */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) throw new UiError('bad_config', `invalid --listen "${text}": use HOST:PORT, e.g. 127.0.0.1:7433`);
  const host = m[1] || m[2] || '127.0.0.1';
  const port = Number(m[3]);
  if (port > 65535) throw new UiError('bad_config', `invalid --listen "${text}": port ${port} is above 65535`);
  if (m[1] && isIP(m[1]) !== 6) throw new UiError('bad_config', `invalid --listen "${text}": ${m[1]} is not an IPv6 address`);
  return { host, port, exposed: !isLoopback(host) };
}

/** localhost, 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * Whether a request's Host header may be answered. A page on another site can make a browser send requests to a
 * loopback port under its own domain name (DNS rebinding); a loopback-only server therefore answers only Host
 * names that are loopback themselves. An exposed server was asked for by name and answers any.
 */
export function hostAllowed(hostHeader: string | undefined, listen: ListenAddress): boolean {
  if (listen.exposed) return true;
  if (!hostHeader) return false;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(hostHeader);
  if (!m) return false;
  return isLoopback(m[1] ?? m[2]);
}
