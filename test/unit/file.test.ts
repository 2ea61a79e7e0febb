// The file exporter: OTLP/JSON lines and length-prefixed protobuf that decode back to the data
// written, ordered writes, append vs truncate, rotation with lumberjack backup names and pruning.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Long from 'long';
import type { Component, ComponentTelemetry, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { silentLogger } from '../../pipeline/logger';
import { codecs } from '../../pipeline/otlp/codec';
import type { LogsData, MetricsData, Signal, SignalData, TracesData } from '../../pipeline/pdata';
import { cloneData } from '../../pipeline/pdata-ops';
import { fileExporterFactory } from '../../exporters/file';
import type { FileExporterConfig } from '../../exporters/file/config';
import { backupStamp, FileWriter } from '../../exporters/file/writer';

const host: Host = {
  getExtension: () => undefined,
  reportFatalError: () => undefined,
  describe: () => ({ pipelines: [], components: [] }),
  stats: () => [],
};

interface Counts { sent: number[]; failed: number[] }

function telemetry(counts: Counts): ComponentTelemetry {
  return {
    accepted() {}, refused() {}, dropped() {}, observeGauge() {}, count() {},
    sent(_s, n) { counts.sent.push(n); },
    failed(_s, n) { counts.failed.push(n); },
  };
}

function settings(t: ComponentTelemetry): Settings {
  return { id: 'file', kind: 'exporter', logger: silentLogger, telemetry: t, buildInfo: { command: 'sonde', version: 'test' } };
}

let dir: string;
const running: Component[] = [];

async function build(config: Record<string, unknown>, signals: Signal[] = ['traces', 'metrics', 'logs'], counts: Counts = { sent: [], failed: [] }) {
  const { value, issues } = readConfig(fileExporterFactory.config, config);
  assert.deepEqual(issues, []);
  assert.deepEqual(fileExporterFactory.validate!(value), []);
  const exp = fileExporterFactory.create(settings(telemetry(counts)), value, signals);
  await exp.start(host);
  running.push(exp);
  return exp;
}

function consumer<S extends Signal>(c: SignalConsumers, signal: S) {
  return c[signal]! as { consume(d: SignalData[S]): Promise<void> };
}

const id = (n: number, len: number) => new Uint8Array(len).fill(n);
const t0 = Long.fromString('1700000000123456789', true);

function traces(k: number): TracesData {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }, { key: 'n', value: { intValue: k } }] },
      schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      scopeSpans: [{
        scope: { name: 'ebpf_http', version: '1.0', attributes: [] },
        spans: [{
          traceId: id(k + 1, 16), spanId: id(2, 8), parentSpanId: id(3, 8), name: `GET /${k}`, kind: 2,
          startTimeUnixNano: t0, endTimeUnixNano: t0.add(1_500_000),
          attributes: [{ key: 'http.status_code', value: { intValue: Long.fromNumber(503) } }, { key: 'ok', value: { boolValue: false } },
            { key: 'list', value: { arrayValue: { values: [{ doubleValue: 1.5 }, { stringValue: 'x' }] } } }],
          events: [{ name: 'retry', timeUnixNano: t0.add(10), attributes: [] }],
          links: [{ traceId: id(9, 16), spanId: id(8, 8), attributes: [] }],
          status: { code: 2, message: 'upstream' },
        }],
      }],
    }],
  };
}

function metrics(k: number): MetricsData {
  return {
    resourceMetrics: [{
      resource: { attributes: [{ key: 'host', value: { stringValue: `h${k}` } }] },
      scopeMetrics: [{
        scope: { name: 's', attributes: [] },
        metrics: [
          { name: 'requests', unit: '1', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: [], timeUnixNano: t0, asInt: Long.fromNumber(k), exemplars: [] }] } },
          { name: 'temp', gauge: { dataPoints: [{ attributes: [], timeUnixNano: t0, asDouble: 21.5, exemplars: [] }] } },
          { name: 'latency', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [{ attributes: [], count: Long.fromNumber(3, true), sum: 12, min: 1, max: 8, bucketCounts: [Long.fromNumber(1, true), Long.fromNumber(2, true)], explicitBounds: [5], exemplars: [] }] } },
        ],
      }],
    }],
  };
}

function logs(k: number, body = `hello ${k}`): LogsData {
  return {
    resourceLogs: [{
      resource: { attributes: [] },
      scopeLogs: [{ scope: { name: 'l', attributes: [] }, logRecords: [{ timeUnixNano: t0, severityNumber: 9, severityText: 'INFO', body: { stringValue: body }, attributes: [], traceId: id(4, 16), spanId: id(5, 8) }] }],
    }],
  };
}

/** A comparable form: defaults dropped (absent = default), 64-bit ints as strings, bytes as hex. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Long.isLong(v)) return (v as Long).isZero() ? undefined : (v as Long).toString();
  if (v instanceof Uint8Array) return v.length ? Buffer.from(v).toString('hex') : undefined;
  if (Array.isArray(v)) return v.length ? v.map(plain) : undefined;
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = plain(x);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  if (v === 0 || v === '' || v === false) return undefined;
  return v;
}

/** Decoded messages keep defaults on prototypes: copy them out first, then compare. */
function same<S extends Signal>(signal: S, decoded: SignalData[S], original: SignalData[S]): void {
  assert.deepEqual(normalizeInts(plain(cloneData(signal, decoded))), normalizeInts(plain(original)));
}

/** An int64 written as a number and read back as a Long compare as the same string. */
function normalizeInts(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeInts);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ['intValue', 'asInt', 'count'].includes(k) ? String(x) : normalizeInts(x)]));
  }
  return v;
}

function readFrames(file: string): Buffer[] {
  const buf = fs.readFileSync(file);
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    assert.ok(pos + 4 <= buf.length, 'a truncated length prefix');
    const len = buf.readUInt32BE(pos);
    assert.ok(pos + 4 + len <= buf.length, 'a truncated message');
    frames.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return frames;
}

const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

describe('file exporter', () => {
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-file-')); });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.shutdown()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('config', () => {
    it('has the Collector defaults; path is required', () => {
      const { value, issues } = readConfig(fileExporterFactory.config, { path: '/tmp/x.json' });
      assert.deepEqual(issues, []);
      assert.deepEqual(value, { path: '/tmp/x.json', format: 'json', append: false, rotation: undefined, flush_interval: 1000, compression: '', group_by: undefined });
      const missing = readConfig(fileExporterFactory.config, {});
      assert.match(missing.issues.map((i) => i.message).join('\n'), /missing required key "path"/);
    });

    it('`rotation:` with no value turns rotation on with defaults', () => {
      const value = readConfig(fileExporterFactory.config, { path: 'x', rotation: null }).value as FileExporterConfig;
      assert.deepEqual(value.rotation, { max_megabytes: 100, max_days: 0, max_backups: 100, localtime: false });
    });

    it('refuses zstd compression and group_by with clear messages; accepts none', () => {
      const v = (c: Record<string, unknown>) => fileExporterFactory.validate!(readConfig(fileExporterFactory.config, { path: 'x', ...c }).value);
      assert.deepEqual(v({ compression: 'none' }), []);
      assert.deepEqual(v({ group_by: { enabled: false } }), []);
      const [zstd] = v({ compression: 'zstd' });
      assert.deepEqual(zstd!.path, ['compression']);
      assert.match(zstd!.message, /"zstd" is not supported/);
      const [group] = v({ group_by: { enabled: true, resource_attribute: 'a' } });
      assert.deepEqual(group!.path, ['group_by']);
      assert.match(group!.message, /^not supported: /);
    });
  });

  it('json: one export request per line, which decodes back to the data written', async () => {
    const counts: Counts = { sent: [], failed: [] };
    const files = { traces: path.join(dir, 't.json'), metrics: path.join(dir, 'm.json'), logs: path.join(dir, 'l.json') };
    const t = await build({ path: files.traces }, ['traces'], counts);
    const m = await build({ path: files.metrics }, ['metrics']);
    const l = await build({ path: files.logs }, ['logs']);
    const inputs = { traces: [traces(1), traces(2)], metrics: [metrics(1), metrics(2)], logs: [logs(1), logs(2)] };
    for (let i = 0; i < 2; i++) {
      await consumer(t.consumers, 'traces').consume(inputs.traces[i]!);
      await consumer(m.consumers, 'metrics').consume(inputs.metrics[i]!);
      await consumer(l.consumers, 'logs').consume(inputs.logs[i]!);
    }
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const got = lines(files[signal]);
      assert.equal(got.length, 2);
      got.forEach((line, i) => same(signal, codecs[signal].decodeRequestJson(line), inputs[signal][i]!));
    }
    assert.deepEqual(counts, { sent: [1, 1], failed: [] });
  });

  it('proto: each request behind its 4-byte big-endian length', async () => {
    const file = path.join(dir, 'out.pb');
    const exp = await build({ path: file, format: 'proto' });
    const inputs: [Signal, SignalData[Signal]][] = [['traces', traces(1)], ['metrics', metrics(7)], ['logs', logs(3)]];
    for (const [signal, data] of inputs) await consumer(exp.consumers, signal).consume(data);
    const frames = readFrames(file);
    assert.equal(frames.length, 3);
    same('traces', codecs.traces.decodeRequest(frames[0]!), inputs[0]![1] as TracesData);
    same('metrics', codecs.metrics.decodeRequest(frames[1]!), inputs[1]![1] as MetricsData);
    same('logs', codecs.logs.decodeRequest(frames[2]!), inputs[2]![1] as LogsData);
  });

  it('writes land in consume order, each complete', async () => {
    const file = path.join(dir, 'order.json');
    const exp = await build({ path: file });
    const c = consumer(exp.consumers, 'logs');
    await Promise.all(Array.from({ length: 300 }, (_, i) => c.consume(logs(i, 'x'.repeat(i * 7)))));
    const got = lines(file).map((line) => codecs.logs.decodeRequestJson(line).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body!.stringValue);
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => 'x'.repeat(i * 7)));
  });

  it('append: false truncates on start, true keeps what is there', async () => {
    const file = path.join(dir, 'a.json');
    fs.writeFileSync(file, 'old line\n');
    const keep = await build({ path: file, append: true });
    await consumer(keep.consumers, 'logs').consume(logs(1));
    await keep.shutdown();
    const kept = lines(file);
    assert.equal(kept.length, 2);
    assert.equal(kept[0], 'old line');

    const fresh = await build({ path: file });
    await consumer(fresh.consumers, 'logs').consume(logs(2));
    await fresh.shutdown();
    const after = lines(file);
    assert.equal(after.length, 1);
    same('logs', codecs.logs.decodeRequestJson(after[0]!), logs(2));
  });

  it('rotation: backups named name-<timestamp>.ext, pruned to max_backups, every file under max_megabytes', async () => {
    const file = path.join(dir, 'spans.json');
    const exp = await build({ path: file, rotation: { max_megabytes: 1, max_backups: 2 } });
    const c = consumer(exp.consumers, 'logs');
    // ~300 KiB per line: three lines per MiB file, 12 lines -> 3 full files + the current.
    for (let i = 0; i < 12; i++) await c.consume(logs(i, String(i).padEnd(300 * 1024, '.')));
    await exp.shutdown();
    const names = fs.readdirSync(dir).sort();
    const backups = names.filter((n) => n !== 'spans.json');
    assert.equal(backups.length, 2, `backups: ${names.join(', ')}`);
    for (const b of backups) assert.match(b, /^spans-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.json$/);
    const bodies: string[] = [];
    for (const n of [...backups, 'spans.json']) {
      const f = path.join(dir, n);
      assert.ok(fs.statSync(f).size <= 1024 * 1024, `${n} exceeds max_megabytes`);
      for (const line of lines(f)) bodies.push(codecs.logs.decodeRequestJson(line).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body!.stringValue!.replace(/\.+$/, ''));
    }
    // The newest two backups and the current file: the last 9 lines, in order.
    assert.deepEqual(bodies, ['3', '4', '5', '6', '7', '8', '9', '10', '11']);
  });

  it('rotation: max_backups 0 keeps every backup; max_days removes old ones', async () => {
    const file = path.join(dir, 'x.log');
    const stale = path.join(dir, `x-${backupStamp(Date.now() - 5 * 86_400_000, false)}.log`);
    fs.writeFileSync(stale, 'stale\n');
    const exp = await build({ path: file, rotation: { max_megabytes: 1, max_backups: 0, max_days: 2 } });
    const c = consumer(exp.consumers, 'logs');
    for (let i = 0; i < 12; i++) await c.consume(logs(i, 'y'.repeat(300 * 1024)));
    await exp.shutdown();
    assert.ok(!fs.existsSync(stale), 'a backup older than max_days is removed');
    assert.equal(fs.readdirSync(dir).length, 4, 'three backups and the current file');
  });

  it('a record larger than max_megabytes goes whole into a file of its own', async () => {
    const file = path.join(dir, 'w.bin');
    const w = new FileWriter(file, { append: false, rotation: { maxBytes: 10, maxDays: 0, maxBackups: 0, localTime: false }, syncIntervalMs: 0 });
    await w.open();
    const rec = (s: string) => [Buffer.from(s)];
    await Promise.all([w.write(rec('aaaa')), w.write(rec('bbbb')), w.write(rec('c'.repeat(25))), w.write(rec('dd'))]);
    await w.close();
    const contents = fs.readdirSync(dir).sort().map((n) => fs.readFileSync(path.join(dir, n), 'utf8'));
    // Backups sort by time, the current file (w.bin) after them.
    assert.deepEqual(contents, ['aaaabbbb', 'c'.repeat(25), 'dd']);
  });

  it('shutdown is safe twice and without start; consume after shutdown fails', async () => {
    const { value } = readConfig(fileExporterFactory.config, { path: path.join(dir, 'n.json') });
    const never = fileExporterFactory.create(settings(telemetry({ sent: [], failed: [] })), value, ['logs']);
    await never.shutdown();
    const counts: Counts = { sent: [], failed: [] };
    const exp = await build({ path: path.join(dir, 's.json') }, ['logs'], counts);
    await exp.shutdown();
    await exp.shutdown();
    await assert.rejects(consumer(exp.consumers, 'logs').consume(logs(1)), /closed/);
    assert.deepEqual(counts.failed, [1]);
  });

  it('start fails with the component id when the file cannot be opened', async () => {
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, '');
    const { value } = readConfig(fileExporterFactory.config, { path: path.join(blocker, 'sub', 'x.json') });
    const exp = fileExporterFactory.create(settings(telemetry({ sent: [], failed: [] })), value, ['logs']);
    await assert.rejects(exp.start(host), /^ComponentError: file: open .*x\.json: /);
  });
});
