// Collects every problem found while loading (never stops at the first) and turns schema issues,
// which carry key paths, into positioned diagnostics.
import { formatPath } from './format';
import { locate, type Entry } from './positions';
import type { ConfigIssue } from './schema';
import type { Diagnostic, Position } from './types';

export class Diagnostics {
  readonly list: Diagnostic[] = [];

  error(message: string, position?: Position, componentId?: string): void {
    this.add('error', message, position, componentId);
  }

  warning(message: string, position?: Position, componentId?: string): void {
    this.add('warning', message, position, componentId);
  }

  /** Schema issues whose paths are relative to `entry` (a component, service.telemetry, ...). */
  issues(entry: Entry, issues: readonly ConfigIssue[], componentId?: string): void {
    for (const i of issues) {
      const path = formatPath(i.path);
      // A missing key has no text of its own: point at the key of the mapping that lacks it.
      const atKey = i.atKey === true || i.message.startsWith('missing required key');
      this.add(i.severity, path ? `${path}: ${i.message}` : i.message, locate(entry, i.path, atKey), componentId);
    }
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }

  /** In file order (as given on the command line), then line and column; unplaced ones first. */
  sorted(files: readonly string[]): Diagnostic[] {
    const rank = (d: Diagnostic): number[] =>
      d.position ? [files.indexOf(d.position.file) + 1, d.position.line, d.position.column] : [0, 0, 0];
    return this.list
      .map((d, i) => ({ d, i, r: rank(d) }))
      .sort((a, b) => a.r[0]! - b.r[0]! || a.r[1]! - b.r[1]! || a.r[2]! - b.r[2]! || a.i - b.i)
      .map((x) => x.d);
  }

  private add(severity: Diagnostic['severity'], message: string, position: Position | undefined, componentId: string | undefined): void {
    const d: Diagnostic = { severity, message };
    if (position) d.position = position;
    if (componentId) d.componentId = componentId;
    this.list.push(d);
  }
}
