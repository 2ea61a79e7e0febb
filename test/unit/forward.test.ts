// The forward connector: same-signal pairs only, data passed on untouched, results passed back.
import assert from 'node:assert/strict';
import type { Consumer, Settings, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { PermanentError } from '../../pipeline/errors';
import { silentLogger } from '../../pipeline/logger';
import type { LogsData, MetricsData, TracesData } from '../../pipeline/pdata';
import { forwardConnectorFactory } from '../../connectors/forward';

const settings: Settings = {
  id: 'forward', kind: 'connector', logger: silentLogger, buildInfo: { command: 'sonde', version: 'test' },
  telemetry: { accepted() {}, refused() {}, dropped() {}, sent() {}, failed() {}, observeGauge() {}, count() {} },
};

function recorder<T>(fail?: Error, mutatesData = false): Consumer<T> & { got: T[] } {
  const got: T[] = [];
  return { got, mutatesData, async consume(d: T) { got.push(d); if (fail) throw fail; } };
}

describe('forward connector', () => {
  it('connects each signal to itself only', () => {
    assert.deepEqual(forwardConnectorFactory.connects.map((c) => `${c.from}->${c.to}`), ['traces->traces', 'metrics->metrics', 'logs->logs']);
  });

  it('takes no options', () => {
    assert.deepEqual(readConfig(forwardConnectorFactory.config, null), { value: {}, issues: [] });
    assert.match(readConfig(forwardConnectorFactory.config, { foo: 1 }).issues[0]!.message, /unknown key "foo"/);
  });

  it('passes each batch, the same object, to the next consumer of its signal', async () => {
    const next = { traces: recorder<TracesData>(), metrics: recorder<MetricsData>(), logs: recorder<LogsData>() };
    const c = forwardConnectorFactory.create(settings, {}, ['traces', 'metrics', 'logs'], next as SignalConsumers);
    const t: TracesData = { resourceSpans: [] };
    const m: MetricsData = { resourceMetrics: [] };
    const l: LogsData = { resourceLogs: [] };
    await c.consumers.traces!.consume(t);
    await c.consumers.metrics!.consume(m);
    await c.consumers.logs!.consume(l);
    assert.strictEqual(next.traces.got[0], t);
    assert.strictEqual(next.metrics.got[0], m);
    assert.strictEqual(next.logs.got[0], l);
    assert.equal(next.traces.got.length + next.metrics.got.length + next.logs.got.length, 3);
  });

  it('hands the downstream error back to the caller, and says it mutates when downstream does', async () => {
    const err = new PermanentError('bad');
    const c = forwardConnectorFactory.create(settings, {}, ['logs'], { logs: recorder<LogsData>(err, true) });
    await assert.rejects(c.consumers.logs!.consume({ resourceLogs: [] }), (e) => e === err);
    assert.equal(c.consumers.logs!.mutatesData, true);
    assert.equal(c.consumers.traces, undefined);
  });
});
