/**
 * Prometheus' text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): for each metric
 * family a `# HELP` and a `# TYPE` line, then one `name{label="value",...} number` line per sample;
 * a histogram's samples are its cumulative `_bucket{le="…"}` lines (the last le="+Inf"), `_sum` and
 * `_count`. Label values escape backslash, double quote and newline as the format requires.
 */
import type { Histogram } from './histogram.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: readonly { labels?: Labels; value: number }[] }
  | { name: string; help: string; type: 'histogram'; samples: readonly { labels?: Labels; histogram: Histogram }[] };

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A sample value as the format writes it: Go's float spellings for the non-finite ones. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

export function prometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type !== 'histogram') {
      for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
      continue;
    }
    for (const { labels, histogram: h } of f.samples) {
      const cumulative = h.cumulative();
      h.bounds.forEach((b, i) => lines.push(`${f.name}_bucket${labelText(labels, ['le', formatValue(b)])} ${cumulative[i]}`));
      lines.push(`${f.name}_bucket${labelText(labels, ['le', '+Inf'])} ${cumulative[cumulative.length - 1]}`);
      lines.push(`${f.name}_sum${labelText(labels)} ${formatValue(h.sum)}`, `${f.name}_count${labelText(labels)} ${h.count}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
