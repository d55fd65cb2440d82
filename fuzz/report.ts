/**
 * Counts per format (inputs tried; valid results, typed rejections, crashes) and the crash classes
 * with a count and the first few inputs of each, printed as a table and, with --json, one JSON
 * line per format.
 */
import type { Outcome } from './outcome.js';

export interface CrashExample {
  index: number;
  how: string;
  message: string;
}

export interface CrashClass {
  count: number;
  examples: CrashExample[];
}

export interface FormatReport {
  format: string;
  inputs: number;
  valid: number;
  rejected: number;
  crashes: number;
  classes: Map<string, CrashClass>;
  /** Set when the harness could not make or run this format's inputs at all. */
  harnessError?: string;
}

const EXAMPLES_KEPT = 3;

export function newFormatReport(format: string): FormatReport {
  return { format, inputs: 0, valid: 0, rejected: 0, crashes: 0, classes: new Map() };
}

export function recordOutcome(r: FormatReport, index: number, how: string, o: Outcome): void {
  r.inputs++;
  if (o.kind === 'valid') r.valid++;
  else if (o.kind === 'rejected') r.rejected++;
  else {
    r.crashes++;
    let c = r.classes.get(o.crashClass);
    if (!c) r.classes.set(o.crashClass, (c = { count: 0, examples: [] }));
    c.count++;
    if (c.examples.length < EXAMPLES_KEPT) c.examples.push({ index, how, message: o.message });
  }
}

export function formatReport(reports: readonly FormatReport[], seed: number, seconds: number): string {
  const lines: string[] = [];
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  lines.push(`fuzz run: seed ${seed}, ${seconds.toFixed(1)} s`);
  lines.push(`${'format'.padEnd(22)}${pad('inputs', 8)}${pad('valid', 8)}${pad('rejected', 10)}${pad('crashes', 9)}${pad('classes', 9)}`);
  for (const r of reports) {
    lines.push(`${r.format.padEnd(22)}${pad(r.inputs, 8)}${pad(r.valid, 8)}${pad(r.rejected, 10)}${pad(r.crashes, 9)}${pad(r.classes.size, 9)}`);
  }
  const total = (k: 'inputs' | 'valid' | 'rejected' | 'crashes') => reports.reduce((s, r) => s + r[k], 0);
  const classes = reports.reduce((s, r) => s + r.classes.size, 0);
  lines.push(`${'total'.padEnd(22)}${pad(total('inputs'), 8)}${pad(total('valid'), 8)}${pad(total('rejected'), 10)}${pad(total('crashes'), 9)}${pad(classes, 9)}`);
  for (const r of reports) {
    if (r.harnessError) lines.push('', `${r.format}: HARNESS ERROR ${r.harnessError}`);
    if (r.classes.size === 0) continue;
    lines.push('', `${r.format}: crash classes`);
    for (const [name, c] of [...r.classes].sort((a, b) => b[1].count - a[1].count)) {
      lines.push(`  ${pad(c.count, 5)} × ${name}`);
      for (const e of c.examples) lines.push(`          #${e.index} [${e.how}] ${e.message}`);
    }
  }
  return lines.join('\n');
}

export function reportJson(r: FormatReport): string {
  return JSON.stringify({
    format: r.format,
    inputs: r.inputs,
    valid: r.valid,
    rejected: r.rejected,
    crashes: r.crashes,
    classes: Object.fromEntries([...r.classes].map(([k, c]) => [k, c])),
    ...(r.harnessError ? { harness_error: r.harnessError } : {}),
  });
}
