import { ratio, summarize, type Summary } from './stats.js';

/** The runtimes compared side by side, in the order they alternate. */
export const RUNTIME_NAMES = ['runts', 'runc', 'crun'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** One measured line of the table: samples (ms) per runtime; a runtime without samples prints "—". */
export interface Row {
  kind: 'row';
  /** Benchmark number in the lead's list (1..7), shown in the first column. */
  num: number;
  title: string;
  samples: Partial<Record<RuntimeName, number[]>>;
  note?: string;
}

/** A benchmark that is planned but cannot be measured yet, or was skipped on this machine; printed with its reason. */
export interface Placeholder {
  kind: 'placeholder';
  num: number;
  title: string;
  reason: string;
  /** What the row says instead of figures (default "not yet measured"), e.g. "skipped". */
  status?: string;
}

export type Entry = Row | Placeholder;

/** Facts printed above the table so a figure can be traced to the machine, versions and commands. */
export interface RunMeta {
  title: string;
  facts: [string, string][];
  commands: string[];
  notes: string[];
}

/** Formats milliseconds with precision that fits the magnitude (0.42, 12.3, 1234). */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

function formatRatio(r: number | undefined): string {
  return r === undefined ? '—' : `${r.toFixed(2)}×`;
}

function cell(s: Summary | undefined): string {
  return s ? `${formatMs(s.median)} (${formatMs(s.min)}–${formatMs(s.max)})` : '—';
}

function counts(sums: (Summary | undefined)[]): string {
  const ns = [...new Set(sums.filter((s): s is Summary => s !== undefined).map((s) => s.n))];
  return ns.join('/');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The table: one line per row or placeholder, medians with (min–max) in ms, and runts/runc, runts/crun ratios. */
export function renderTable(entries: readonly Entry[]): string {
  const head = ['#', 'benchmark', 'n', ...RUNTIME_NAMES.map((r) => `${r} ms median (min–max)`), 'runts/runc', 'runts/crun', 'notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const e of entries) {
    if (e.kind === 'placeholder') {
      lines.push(`| ${e.num} | ${escapeCell(e.title)} | | ${RUNTIME_NAMES.map(() => '').join(' | ')} | | | **${e.status ?? 'not yet measured'}**: ${escapeCell(e.reason)} |`);
      continue;
    }
    const sums = RUNTIME_NAMES.map((r) => summarize(e.samples[r]));
    const [runts, runc, crun] = sums;
    lines.push(
      `| ${e.num} | ${escapeCell(e.title)} | ${counts(sums)} | ${sums.map(cell).join(' | ')} | ${formatRatio(ratio(runts, runc))} | ${formatRatio(ratio(runts, crun))} | ${escapeCell(e.note ?? '')} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Plain-text lines for one row, printed as soon as a benchmark finishes. */
export function renderRowText(e: Entry): string {
  if (e.kind === 'placeholder') return `[${e.num}] ${e.title}: ${e.status ?? 'not yet measured'}: ${e.reason}`;
  const sums = RUNTIME_NAMES.map((r) => summarize(e.samples[r]));
  const parts = RUNTIME_NAMES.map((r, i) => {
    const s = sums[i];
    return s ? `${r} median ${formatMs(s.median)} min ${formatMs(s.min)} max ${formatMs(s.max)} (n=${s.n})` : `${r} —`;
  });
  const ratios = `runts/runc ${formatRatio(ratio(sums[0], sums[1]))}, runts/crun ${formatRatio(ratio(sums[0], sums[2]))}`;
  return `[${e.num}] ${e.title} (ms)\n    ${parts.join('\n    ')}\n    ${ratios}${e.note ? `\n    note: ${e.note}` : ''}`;
}

/** The whole markdown report: title, facts, table, commands, notes. */
export function renderMarkdown(meta: RunMeta, entries: readonly Entry[]): string {
  const facts = meta.facts.map(([k, v]) => `- **${k}**: ${v}`).join('\n');
  const commands = meta.commands.map((c) => `    ${c}`).join('\n');
  const notes = meta.notes.map((n) => `- ${n}`).join('\n');
  return `# ${meta.title}\n\n${facts}\n\n${renderTable(entries)}\n## Commands timed\n\n${commands}\n\n## Notes\n\n${notes}\n`;
}
