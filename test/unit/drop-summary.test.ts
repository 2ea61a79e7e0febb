// The aggregated drop summary: one line per interval with what changed, nothing when nothing did.
import * as assert from 'node:assert/strict';
import type { Logger, LogFields } from '../../pipeline/logger';
import { silentLogger } from '../../pipeline/logger';
import { SelfTelemetry } from '../../pipeline/telemetry';
import { DropSummary } from '../../pipeline/telemetry/drop_summary';

function recordingLogger(lines: { msg: string; fields?: LogFields }[]): Logger {
  return { ...silentLogger, warn: (msg, fields) => { lines.push({ msg, fields }); }, with: () => recordingLogger(lines) };
}

describe('telemetry: drop summary', () => {
  it('logs what was refused, failed or dropped since the last summary, once', () => {
    const lines: { msg: string; fields?: LogFields }[] = [];
    const tel = new SelfTelemetry({ metrics: { level: 'none', prometheus: '' }, logs: { level: 'info' }, resource: {} }, silentLogger, { command: 'sonde', version: 't' });
    const summary = new DropSummary(() => tel.snapshot(), recordingLogger(lines));
    const exp = tel.forComponent('otlp', 'exporter');
    const rcv = tel.forComponent('otlp', 'receiver');
    summary.report();
    assert.equal(lines.length, 0, 'nothing lost: no line');
    exp.dropped('traces', 10, 'rejected_by_backend');
    exp.failed('traces', 5);
    rcv.refused('logs', 7);
    exp.sent('traces', 100);
    summary.report();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.fields!.items, 22);
    assert.equal(lines[0]!.fields!.details, 'exporters::otlp traces dropped:rejected_by_backend=10, exporters::otlp traces failed=5, receivers::otlp logs refused=7');
    summary.report();
    assert.equal(lines.length, 1, 'no new loss: no new line');
    exp.dropped('traces', 1, 'rejected_by_backend');
    summary.report();
    assert.equal(lines[1]!.fields!.details, 'exporters::otlp traces dropped:rejected_by_backend=1');
  });
});
