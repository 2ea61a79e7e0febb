// The zpages views as data (served as JSON with ?format=json) and as HTML. Every value that
// reaches HTML goes through esc(): component ids, paths and reasons come from users' files.
import type { ComponentStats, GraphDescription } from '../../pipeline/component';
import type { Signal } from '../../pipeline/pdata';

export interface ServiceInfo {
  command: string;
  version: string;
  node: string;
  pid: number;
  startTime: string;
  uptimeSeconds: number;
  configFiles: string[];
}

export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const NAV = [
  ['/debug/servicez', 'Service'],
  ['/debug/pipelinez', 'Pipelines'],
  ['/debug/componentz', 'Components'],
] as const;

function layout(title: string, body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : '';
  const nav = NAV.map(([href, label]) => `<a href="${href}">${label}</a>`).join(' | ');
  return `<!DOCTYPE html><html><head><meta charset="utf-8">${refresh}<title>${esc(title)}</title>`
    + '<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin:.5em 0}'
    + 'td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}td.n{text-align:right}</style></head>'
    + `<body><nav>${nav}</nav><h1>${esc(title)}</h1>${body}</body></html>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[], numeric: ReadonlySet<number> = new Set()): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  // Cells arrive escaped already (some hold markup such as lists), so they are not escaped again.
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table><tr>${th}</tr>${tr}</table>`;
}

export function indexHtml(): string {
  return layout('zPages', `<ul>${NAV.map(([href, label]) => `<li><a href="${href}">${label}</a></li>`).join('')}</ul>`);
}

export function serviceHtml(info: ServiceInfo): string {
  const rows: [string, string][] = [
    ['Command', esc(info.command)],
    ['Version', esc(info.version)],
    ['Node.js', esc(info.node)],
    ['PID', esc(info.pid)],
    ['Start time', esc(info.startTime)],
    ['Uptime', `${esc(info.uptimeSeconds.toFixed(0))} s`],
    ['Config files', info.configFiles.length ? info.configFiles.map(esc).join('<br>') : '(none recorded)'],
  ];
  return layout('Service', table(['Property', 'Value'], rows));
}

export function pipelinesHtml(graph: GraphDescription): string {
  const list = (ids: string[]): string => ids.map(esc).join('<br>');
  const pipelines = table(['Pipeline', 'Signal', 'Receivers', 'Processors', 'Exporters'],
    graph.pipelines.map((p) => [esc(p.id), esc(p.signal), list(p.receivers), list(p.processors), list(p.exporters)]));
  const components = table(['Id', 'Kind', 'Type'], graph.components.map((c) => [esc(c.id), esc(c.kind), esc(c.type)]));
  return layout('Pipelines', `${pipelines}<h2>Components</h2>${components}`);
}

export function componentsHtml(stats: ComponentStats[]): string {
  const rows: string[][] = [];
  for (const c of stats) {
    for (const [signal, t] of Object.entries(c.signals) as [Signal, NonNullable<ComponentStats['signals'][Signal]>][]) {
      const dropped = Object.entries(t.dropped).map(([reason, n]) => `${esc(reason)}: ${esc(n)}`).join('<br>');
      rows.push([esc(c.kind), esc(c.id), esc(signal), esc(t.accepted), esc(t.refused), esc(t.sent), esc(t.failed), dropped]);
    }
  }
  const body = rows.length ? table(['Kind', 'Id', 'Signal', 'Accepted', 'Refused', 'Sent', 'Failed', 'Dropped'], rows, new Set([3, 4, 5, 6]))
    : '<p>Nothing counted yet.</p>';
  return layout('Components', `<p>Item counts since start; this page refreshes every 5 s.</p>${body}`, 5);
}
