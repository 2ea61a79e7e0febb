// The Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text, for the pull exporter:
// families in name order, each with HELP and TYPE, then its sample lines. Exponential
// histograms go out as classic histograms (neither text format carries native ones).
import type { Family, Point, PromLabel } from './model';
import { flatten } from './series';
import { formatFloat } from './translate';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface TextOptions {
  openMetrics: boolean;
  /** Write each sample's timestamp (the Collector's send_timestamps). */
  timestamps: boolean;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string, openMetrics: boolean): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? s.replace(/"/g, '\\"') : s;
}

function labelText(labels: readonly PromLabel[]): string {
  if (labels.length === 0) return '';
  let out = '{';
  for (let i = 0; i < labels.length; i++) out += `${i ? ',' : ''}${labels[i]!.name}="${escapeLabelValue(labels[i]!.value)}"`;
  return `${out}}`;
}

/** What a family is called and typed as in each format. */
function header(f: Family, openMetrics: boolean): { name: string; type: string; rename?: (sample: string) => string } {
  if (!openMetrics) {
    const type = f.type === 'info' ? 'gauge' : f.type === 'unknown' ? 'untyped' : f.type;
    return { name: f.name, type };
  }
  // OpenMetrics names the family without the sample suffix its type implies.
  if (f.type === 'counter') return f.name.endsWith('_total') ? { name: f.name.slice(0, -6), type: 'counter' } : { name: f.name, type: 'unknown' };
  if (f.type === 'info') return f.name.endsWith('_info') ? { name: f.name.slice(0, -5), type: 'info' } : { name: f.name, type: 'gauge' };
  return { name: f.name, type: f.type };
}

/** Writes every point; `points` may come in any order. */
export function writeText(points: readonly Point[], opts: TextOptions): string {
  const families = new Map<string, { family: Family; points: Point[] }>();
  for (const p of points) {
    let f = families.get(p.family.name);
    if (!f) {
      f = { family: p.family, points: [] };
      families.set(p.family.name, f);
    }
    f.points.push(p);
  }
  const names = [...families.keys()].sort();
  const lines: string[] = [];
  for (const n of names) {
    const { family, points: list } = families.get(n)!;
    const h = header(family, opts.openMetrics);
    if (family.help) lines.push(`# HELP ${h.name} ${escapeHelp(family.help, opts.openMetrics)}`);
    lines.push(`# TYPE ${h.name} ${h.type}`);
    if (opts.openMetrics && family.unit && h.name.endsWith(`_${family.unit}`)) lines.push(`# UNIT ${h.name} ${family.unit}`);
    for (const p of list) {
      const ts = opts.timestamps ? ` ${opts.openMetrics ? formatFloat(p.timestampMs / 1000) : p.timestampMs}` : '';
      for (const s of flatten(p)) lines.push(`${s.name}${labelText(s.labels)} ${formatFloat(s.value)}${ts}`);
    }
  }
  if (opts.openMetrics) lines.push('# EOF');
  return lines.length ? `${lines.join('\n')}\n` : '';
}
