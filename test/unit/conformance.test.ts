// Every registered factory, the same checks: its default config validates, and a component
// survives shutdown without start, start -> shutdown -> shutdown, and a second instance started
// after the first stopped (ports and files are released).
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { defaultRegistry, factories } from '../../components';
import type { Component, ComponentStats, ComponentTelemetry, Factory, GraphDescription, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { silentLogger } from '../../pipeline/logger';
import { probeFeatures } from '../../native/features';
import type { Signal } from '../../pipeline/pdata';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-'));

/** What a user must write at least (required keys), and ephemeral ports for servers. */
const MINIMAL: Record<string, unknown> = {
  otlp_receiver: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } },
  otlp_exporter: { endpoint: '127.0.0.1:1', tls: { insecure: true } },
  otlphttp: { endpoint: 'http://127.0.0.1:1' },
  file: { path: path.join(dir, 'out.jsonl') },
  health_check: { endpoint: '127.0.0.1:0' },
  zpages: { endpoint: '127.0.0.1:0' },
  pprof: { endpoint: '127.0.0.1:0' },
  file_storage: { directory: path.join(dir, 'storage') },
  memory_limiter: { check_interval: '1s', limit_mib: 4096 },
  tracepoint: { tracepoint: 'syscalls/sys_enter_getppid' },
  ebpf_http: { ports: [1] },
  kprobe: { function: 'vfs_write' },
  uprobe: { library: 'libc.so.6', symbol: 'getppid', pid: process.pid },
  prometheusremotewrite: { endpoint: 'http://127.0.0.1:1/api/v1/write' },
  prometheus_exporter: { endpoint: '127.0.0.1:0' },
};

/** Receivers that need a kernel feature: the feature probe says whether this kernel has it. */
async function unsupportedHere(f: Factory): Promise<string | undefined> {
  if (f.kind !== 'receiver' || f.type !== 'kprobe') return undefined;
  const report = await probeFeatures();
  const kinds = [report.attach.kprobe, report.attach.fentry];
  return kinds.some((k) => k.supported) ? undefined : kinds.map((k) => k.reason).join('; ');
}

function minimal(f: Factory): unknown {
  return MINIMAL[`${f.type}_${f.kind}`] ?? MINIMAL[f.type] ?? {};
}

const telemetry: ComponentTelemetry = { accepted() {}, refused() {}, dropped() {}, sent() {}, failed() {}, observeGauge() {}, count() {} };
const host: Host = {
  getExtension: () => undefined,
  reportFatalError: (id, err) => { throw new Error(`${id} reported a fatal error: ${String(err)}`); },
  describe: (): GraphDescription => ({ pipelines: [], components: [] }),
  stats: (): ComponentStats[] => [],
};
const noop = { async consume() {} };
const consumers: SignalConsumers = { traces: noop, metrics: noop, logs: noop };

function signalsOf(f: Factory): Signal[] {
  if (f.kind === 'connector') return [...new Set(f.connects.map((c) => c.from))];
  if (f.kind === 'extension') return [];
  return Object.keys(f.signals) as Signal[];
}

function create(f: Factory): Component {
  const settings: Settings = { id: f.type, kind: f.kind, logger: silentLogger, telemetry, buildInfo: { command: 'sonde', version: 'test' } };
  const { value, issues } = readConfig(f.config, minimal(f));
  const errors = [...issues.filter((i) => i.severity === 'error'), ...(f.validate?.(value) ?? [])];
  assert.deepEqual(errors, [], `${f.kind} ${f.type}: minimal config is valid`);
  switch (f.kind) {
    case 'receiver': return f.create(settings, value, consumers);
    case 'processor': return f.create(settings, value, signalsOf(f)[0]!, noop);
    case 'exporter': return f.create(settings, value, signalsOf(f));
    case 'connector': return f.create(settings, value, signalsOf(f), consumers);
    case 'extension': return f.create(settings, value);
  }
}

describe('conformance: every factory', () => {
  it('the registry has no duplicate type or alias', () => {
    assert.doesNotThrow(() => defaultRegistry());
  });

  for (const f of factories) {
    describe(`${f.kind} ${f.type}`, () => {
      it('describes itself', () => {
        assert.ok(f.description.length > 10);
        if (f.kind !== 'extension') assert.ok(signalsOf(f).length > 0);
      });
      it('shuts down without start', async () => {
        await create(f).shutdown();
      });
      it('starts, shuts down twice, and a second instance starts after it', async function () {
        const reason = await unsupportedHere(f);
        if (reason) {
          console.log(`      skipped: ${reason}`);
          this.skip();
        }
        const c = create(f);
        await c.start(host);
        await c.shutdown();
        await c.shutdown();
        const again = create(f);
        await again.start(host);
        await again.shutdown();
      });
    });
  }
});
