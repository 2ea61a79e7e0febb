// The engine: graph shape (shared instances, fan-out, connectors), start/shutdown order,
// start failures and the drain deadline, built from YAML through the real config loader.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  connectorFactory, exporterFactory, extensionFactory, processorFactory, receiverFactory,
  type Component, type ComponentStats, type ComponentTelemetry, type Consumer, type SignalConsumers,
} from '../../pipeline/component';
import { loadConfig, formatDiagnostic } from '../../pipeline/config/load';
import { s } from '../../pipeline/config/schema';
import { PermanentError, RetryableError } from '../../pipeline/errors';
import { silentLogger } from '../../pipeline/logger';
import type { Signal, SignalData, TracesData } from '../../pipeline/pdata';
import { Registry } from '../../pipeline/registry';
import { Service, type TelemetryProvider } from '../../pipeline/service';

const events: string[] = [];
const receivers = new Map<string, SignalConsumers>();
const created = new Map<string, number>();
const exported = new Map<string, TracesData[]>();

function lifecycle(label: string, opts: { failStart?: boolean; hangShutdown?: boolean } = {}): Component {
  return {
    async start() {
      events.push(`start ${label}`);
      if (opts.failStart) throw new Error('port busy');
    },
    async shutdown() {
      events.push(`stop ${label}`);
      if (opts.hangShutdown) await new Promise(() => {});
    },
  };
}

const flags = s.object({ fail_start: s.bool({ default: false }), hang_shutdown: s.bool({ default: false }), fail: s.enum(['no', 'permanent', 'retryable'], { default: 'no' }) });

const registry = new Registry([
  receiverFactory({
    kind: 'receiver', type: 'push', description: 'test receiver', signals: { traces: 'stable', logs: 'stable' }, config: flags,
    create(settings, config, next) {
      created.set(settings.id, (created.get(settings.id) ?? 0) + 1);
      receivers.set(settings.id, next);
      return lifecycle(`receivers::${settings.id}`, { failStart: config.fail_start });
    },
  }),
  processorFactory({
    kind: 'processor', type: 'tag', description: 'adds an attribute in place', signals: { traces: 'stable' }, config: s.object({ value: s.string({ default: 'x' }) }),
    create<S extends Signal>(settings: { id: string }, config: { value: string }, _signal: S, next: Consumer<SignalData[S]>) {
      const label = `processors::${settings.id}`;
      return {
        ...lifecycle(label),
        mutatesData: true,
        async consume(data: SignalData[S]) {
          for (const rs of (data as TracesData).resourceSpans) rs.resource?.attributes.push({ key: 'tag', value: { stringValue: config.value } });
          await next.consume(data);
        },
      };
    },
  }),
  exporterFactory({
    kind: 'exporter', type: 'memory', description: 'records batches', signals: { traces: 'stable', logs: 'stable' }, config: flags,
    create(settings, config) {
      const label = `exporters::${settings.id}`;
      exported.set(settings.id, []);
      return {
        ...lifecycle(label, { failStart: config.fail_start, hangShutdown: config.hang_shutdown }),
        consumers: {
          traces: {
            async consume(data: TracesData) {
              if (config.fail === 'permanent') throw new PermanentError('bad data');
              if (config.fail === 'retryable') throw new RetryableError('backend down', { retryAfterMs: 1500 });
              exported.get(settings.id)!.push(JSON.parse(JSON.stringify(data)) as TracesData);
            },
          },
        },
      };
    },
  }),
  connectorFactory({
    kind: 'connector', type: 'pass', description: 'traces to traces', connects: [{ from: 'traces', to: 'traces', stability: 'stable' }], config: s.object({}),
    create(settings, _config, _from, next) {
      return { ...lifecycle(`connectors::${settings.id}`), consumers: { traces: next.traces! } };
    },
  }),
  extensionFactory({
    kind: 'extension', type: 'watch', description: 'records readiness', stability: 'stable', config: s.object({}),
    create(settings) {
      return { ...lifecycle(`extensions::${settings.id}`), ready() { events.push('ready'); }, notReady() { events.push('not ready'); } } as Component;
    },
  }),
]);

const noTelemetry: TelemetryProvider = {
  forComponent(): ComponentTelemetry {
    return { accepted() {}, refused() {}, dropped() {}, sent() {}, failed() {}, observeGauge() {}, count() {} };
  },
  snapshot(): ComponentStats[] { return []; },
  async start() {},
  async shutdown() {},
};

function service(yaml: string): Service {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'engine-')), 'c.yaml');
  fs.writeFileSync(file, yaml);
  const { config, diagnostics } = loadConfig([file], registry, {});
  assert.ok(config, diagnostics.map(formatDiagnostic).join('\n'));
  return new Service({ config, logger: silentLogger, telemetry: noTelemetry, buildInfo: { command: 'sonde', version: 'test' } });
}

function spans(n: number): TracesData {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeSpans: [{ spans: Array.from({ length: n }, (_, i) => ({ name: `s${i}`, attributes: [], events: [], links: [] })) }],
    }],
  };
}

describe('engine', () => {
  beforeEach(() => { events.length = 0; receivers.clear(); created.clear(); exported.clear(); });

  it('shares one receiver instance between pipelines and fans out, copying for mutating processors', async () => {
    const svc = service(`
receivers: { push: }
processors: { tag: { value: "t" } }
exporters: { memory/a: , memory/b: }
service:
  pipelines:
    traces/tagged: { receivers: [push], processors: [tag], exporters: [memory/a] }
    traces/plain: { receivers: [push], exporters: [memory/a, memory/b] }
`);
    await svc.start();
    assert.equal(created.get('push'), 1);
    await receivers.get('push')!.traces!.consume(spans(3));
    const a = exported.get('memory/a')!;
    const b = exported.get('memory/b')!;
    assert.equal(a.length, 2, 'memory/a is in both pipelines');
    assert.equal(b.length, 1);
    const tagged = a.filter((d) => d.resourceSpans[0]!.resource!.attributes.some((kv) => kv.key === 'tag'));
    assert.equal(tagged.length, 1, 'only the tagged pipeline sees the processor change');
    assert.ok(!b[0]!.resourceSpans[0]!.resource!.attributes.some((kv) => kv.key === 'tag'));
    assert.equal(await svc.shutdown(), true);
  });

  it('joins pipelines through a connector and orders start downstream-first, shutdown upstream-first', async () => {
    const svc = service(`
receivers: { push: }
processors: { tag: }
exporters: { memory: }
connectors: { pass: }
extensions: { watch: }
service:
  extensions: [watch]
  pipelines:
    traces/in: { receivers: [push], processors: [tag], exporters: [pass] }
    traces/out: { receivers: [pass], exporters: [memory] }
`);
    await svc.start();
    await receivers.get('push')!.traces!.consume(spans(2));
    assert.equal(exported.get('memory')!.length, 1);
    assert.equal(exported.get('memory')![0]!.resourceSpans[0]!.scopeSpans[0]!.spans.length, 2);
    await svc.shutdown();
    assert.deepEqual(events, [
      'start extensions::watch', 'start exporters::memory', 'start connectors::pass', 'start processors::tag', 'start receivers::push', 'ready',
      'not ready', 'stop receivers::push', 'stop processors::tag', 'stop connectors::pass', 'stop exporters::memory', 'stop extensions::watch',
    ]);
  });

  it('fails start with the component id and stops what had started', async () => {
    const svc = service(`
receivers: { push: { fail_start: true } }
exporters: { memory: }
service: { pipelines: { traces: { receivers: [push], exporters: [memory] } } }
`);
    await assert.rejects(svc.start(), /receivers::push: failed to start: port busy/);
    assert.deepEqual(events, ['start exporters::memory', 'start receivers::push', 'stop exporters::memory']);
  });

  it('gives up draining at the deadline and says so', async () => {
    const svc = service(`
receivers: { push: }
exporters: { memory: { hang_shutdown: true } }
service: { pipelines: { traces: { receivers: [push], exporters: [memory] } } }
`);
    await svc.start();
    const t0 = Date.now();
    assert.equal(await svc.shutdown(300), false);
    assert.ok(Date.now() - t0 < 2000);
  });

  it('fan-out failure is retryable unless every branch failed permanently', async () => {
    const svc = service(`
receivers: { push: }
exporters: { memory/bad: { fail: permanent }, memory/down: { fail: retryable }, memory/ok: }
service:
  pipelines:
    traces/1: { receivers: [push], exporters: [memory/bad, memory/ok] }
    traces/2: { receivers: [push], exporters: [memory/down] }
`);
    await svc.start();
    const err = await receivers.get('push')!.traces!.consume(spans(1)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RetryableError, String(err));
    assert.equal(err.retryAfterMs, 1500);
    assert.match(err.message, /pipeline traces\/1: memory\/bad: bad data/);
    assert.match(err.message, /pipeline traces\/2: backend down/);
    await svc.shutdown();
  });
});
