import type { Placeholder } from '../lib/report.js';

const REASON = 'needs the embedded Runtime API / resident supervisor';

/** Benchmarks the lead adds once the embedded `Runtime` API and the resident supervisor can be driven from here. */
export const PLACEHOLDERS: Placeholder[] = [
  { kind: 'placeholder', num: 3, title: 'embedded `Runtime` API: create/start/wait/delete cycle in-process', reason: 'measured by bench/api-cycle.ts (npm run bench:api)' },
  { kind: 'placeholder', num: 4, title: 'stop detection latency (container exit → `stopped` observed)', reason: REASON },
  { kind: 'placeholder', num: 6, title: '1,000 sleeping containers under one supervisor (memory, CPU, op latency)', reason: 'measured by bench/supervisor-heap.ts (npm run bench:heap)' },
];
