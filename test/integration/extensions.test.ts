// health_check, zpages and pprof built through their factories, started on ephemeral ports with a
// Host built here, and exercised over real HTTP. Profiles are gunzipped and decoded as pprof
// protobuf by a reader written here, not by the library that produced them.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Component, ExtensionFactory, GraphDescription, Host, PipelineWatcher, Settings } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { silentLogger } from '../../pipeline/logger';
import { SelfTelemetry } from '../../pipeline/telemetry';
import type { HostPort } from '../../pipeline/telemetry';
import { healthCheckExtensionFactory } from '../../extensions/health_check';
import { pprofExtensionFactory } from '../../extensions/pprof';
import { zpagesExtensionFactory } from '../../extensions/zpages';
import { configFiles } from '../../extensions/zpages/zpages';

type Served = Component & { address(): HostPort | undefined };

const telemetry = new SelfTelemetry({ metrics: { level: 'none', prometheus: '' }, logs: { level: 'info' }, resource: {} }, silentLogger, { command: 'sonde', version: '1.2.3-test' });

function settings(id: string): Settings {
  return { id, kind: 'extension', logger: silentLogger, telemetry: telemetry.forComponent(id, 'extension'), buildInfo: { command: 'sonde', version: '1.2.3-test' } };
}

function create(factory: ExtensionFactory, id: string, raw: Record<string, unknown>): Served {
  const { value, issues } = readConfig(factory.config, raw);
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  assert.deepEqual(factory.validate?.(value) ?? [], []);
  return factory.create(settings(id), value) as Served;
}

// A host with a real-looking graph (one id meant to break HTML) and real counts.
const EVIL = 'otlp/<script>alert("x")</script>';
const graph: GraphDescription & { configFiles: string[] } = {
  pipelines: [
    { id: 'traces', signal: 'traces', receivers: ['otlp', EVIL], processors: ['memory_limiter', 'batch'], exporters: ['otlp_http/tempo'] },
    { id: 'metrics/node', signal: 'metrics', receivers: ['otlp'], processors: [], exporters: ['prometheus_remote_write'] },
  ],
  components: [
    { id: 'otlp', kind: 'receiver', type: 'otlp' },
    { id: EVIL, kind: 'receiver', type: 'otlp' },
    { id: 'memory_limiter', kind: 'processor', type: 'memory_limiter' },
    { id: 'batch', kind: 'processor', type: 'batch' },
    { id: 'otlp_http/tempo', kind: 'exporter', type: 'otlp_http' },
    { id: 'prometheus_remote_write', kind: 'exporter', type: 'prometheus_remote_write' },
  ],
  configFiles: ['/etc/sonde/agent.yaml', '/etc/sonde/<override>.yaml'],
};

function makeHost(): Host & { fatal: unknown[] } {
  const t = new SelfTelemetry({ metrics: { level: 'none', prometheus: '' }, logs: { level: 'info' }, resource: {} }, silentLogger, { command: 'sonde', version: '1' });
  const rx = t.forComponent('otlp', 'receiver');
  rx.accepted('traces', 1200);
  rx.refused('traces', 30);
  t.forComponent(EVIL, 'receiver').dropped('traces', 2, '<bad>');
  const ex = t.forComponent('otlp_http/tempo', 'exporter');
  ex.sent('traces', 1150);
  ex.failed('traces', 20);
  ex.dropped('traces', 5, 'queue_full');
  const fatal: unknown[] = [];
  return {
    fatal,
    getExtension: () => undefined,
    reportFatalError: (_id, err) => { fatal.push(err); },
    describe: () => graph,
    stats: () => t.snapshot(),
  };
}

function url(c: Served, path: string): string {
  const a = c.address();
  assert.ok(a, 'bound');
  return `http://127.0.0.1:${a.port}${path}`;
}

async function get(c: Served, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url(c, path));
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function takenPort(): Promise<{ port: number; close(): Promise<void> }> {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  return { port: (blocker.address() as AddressInfo).port, close: () => new Promise((r) => blocker.close(() => r())) };
}

// --- a minimal protobuf reader for pprof's Profile message ---

type Field = { no: number; wire: number; int?: bigint; bytes?: Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      assert.ok(b !== undefined, 'truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, int: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else assert.fail(`unexpected wire type ${wire}`);
  }
}

/** Repeated integers, packed (wire type 2) or not. */
function ints(f: Field): bigint[] {
  return f.int !== undefined ? [f.int] : packed(f.bytes!);
}

function packed(b: Buffer): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < b.length) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[pos++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(v);
  }
  return out;
}

interface DecodedProfile { sampleTypes: [string, string][]; samples: bigint[][]; strings: string[]; functionNames: string[] }

function decodeProfile(gz: Buffer): DecodedProfile {
  assert.equal(gz[0], 0x1f, 'gzip magic');
  assert.equal(gz[1], 0x8b, 'gzip magic');
  const raw = gunzipSync(gz);
  const types: [bigint, bigint][] = [];
  const samples: bigint[][] = [];
  const strings: string[] = [];
  const fnNames: bigint[] = [];
  for (const f of fields(raw)) {
    if (f.no === 1) { // sample_type: ValueType {type = 1, unit = 2}
      const vt = [...fields(f.bytes!)];
      types.push([vt.find((x) => x.no === 1)?.int ?? 0n, vt.find((x) => x.no === 2)?.int ?? 0n]);
    } else if (f.no === 2) { // sample: {location_id = 1, value = 2}
      samples.push([...fields(f.bytes!)].filter((x) => x.no === 2).flatMap(ints));
    } else if (f.no === 5) { // function: {id = 1, name = 2}
      fnNames.push([...fields(f.bytes!)].find((x) => x.no === 2)?.int ?? 0n);
    } else if (f.no === 6) { // string_table
      strings.push(f.bytes!.toString('utf8'));
    }
  }
  assert.equal(strings[0], '', 'string_table[0] is the empty string');
  const str = (i: bigint): string => strings[Number(i)] ?? assert.fail(`string index ${i} out of range`);
  return { sampleTypes: types.map(([t, u]) => [str(t), str(u)]), samples, strings, functionNames: fnNames.map(str) };
}

/** Keeps the CPU busy in short slices, yielding so the server can serve meanwhile. */
async function burnCpuFor(ms: number): Promise<number> {
  let x = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    x += burnCpu(10);
    await new Promise((r) => setImmediate(r));
  }
  return x;
}

function burnCpu(ms: number): number {
  let x = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) for (let i = 0; i < 1000; i++) x += Math.sqrt(i + x);
  return x;
}

// --- tests ---

describe('extensions (integration)', () => {
  const running: Served[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.shutdown()));
  });
  async function started(factory: ExtensionFactory, id: string, raw: Record<string, unknown>, host: Host = makeHost()): Promise<Served> {
    const c = create(factory, id, raw);
    running.push(c);
    await c.start(host);
    return c;
  }

  describe('health_check', () => {
    it('has the Collector defaults and accepts check_collector_pipeline with a warning', () => {
      const { value, issues } = readConfig(healthCheckExtensionFactory.config, { check_collector_pipeline: { enabled: true, interval: '5m' } });
      assert.deepEqual(value, { endpoint: '127.0.0.1:13133', path: '/', response_body: undefined });
      assert.equal(issues.length, 1);
      assert.equal(issues[0]!.severity, 'warning');
      assert.deepEqual(issues[0]!.path, ['check_collector_pipeline']);
      assert.match(issues[0]!.message, /"check_collector_pipeline" is ignored/);
      const bad = readConfig(healthCheckExtensionFactory.config, { endpoint: 'localhost', path: 'health' }).value;
      assert.deepEqual(healthCheckExtensionFactory.validate!(bad).map((i) => i.path[0]), ['endpoint', 'path']);
    });

    it('answers 503 until ready, 200 while ready, 503 after notReady', async () => {
      const hc = await started(healthCheckExtensionFactory, 'health_check', { endpoint: '127.0.0.1:0' });
      const watcher = hc as unknown as PipelineWatcher;
      let r = await get(hc, '/');
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.body), { status: 'Server not available', upSince: '0001-01-01T00:00:00Z', uptime: '' });

      const before = Date.now();
      watcher.ready();
      await new Promise((res) => setTimeout(res, 30));
      r = await get(hc, '/');
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/json');
      const body = JSON.parse(r.body) as { status: string; upSince: string; uptime: string };
      assert.equal(body.status, 'Server available');
      assert.ok(Math.abs(Date.parse(body.upSince) - before) < 1000);
      assert.match(body.uptime, /^\d+(\.\d+)?(ms|s)$/);

      watcher.notReady();
      r = await get(hc, '/');
      assert.equal(r.status, 503);
      assert.equal(JSON.parse(r.body).status, 'Server not available');
    });

    it('serves only its path, and custom bodies', async () => {
      const hc = await started(healthCheckExtensionFactory, 'health_check/k8s', {
        endpoint: '127.0.0.1:0', path: '/health/status', response_body: { healthy: 'I am fine', unhealthy: 'I am not' },
      });
      assert.equal((await get(hc, '/')).status, 404);
      assert.deepEqual(await get(hc, '/health/status'), { status: 503, type: 'text/plain', body: 'I am not' });
      (hc as unknown as PipelineWatcher).ready();
      assert.deepEqual(await get(hc, '/health/status?verbose'), { status: 200, type: 'text/plain', body: 'I am fine' });
    });
  });

  describe('zpages', () => {
    it('serves servicez with build info, start time and config files', async () => {
      const z = await started(zpagesExtensionFactory, 'zpages', { endpoint: '127.0.0.1:0' });
      const json = JSON.parse((await get(z, '/debug/servicez?format=json')).body) as Record<string, unknown>;
      assert.equal(json['command'], 'sonde');
      assert.equal(json['version'], '1.2.3-test');
      assert.equal(json['pid'], process.pid);
      assert.ok(Math.abs(Date.parse(json['startTime'] as string) - (Date.now() - process.uptime() * 1000)) < 2000);
      assert.deepEqual(json['configFiles'], graph.configFiles);
      const html = await get(z, '/debug/servicez');
      assert.equal(html.status, 200);
      assert.equal(html.type, 'text/html; charset=utf-8');
      assert.ok(html.body.includes('1.2.3-test'));
      assert.ok(html.body.includes('/etc/sonde/&#60;override&#62;.yaml'));
      assert.ok(!html.body.includes('<override>'));
    });

    it('finds config files on the command line when the host does not list them', () => {
      const host = { ...makeHost(), describe: (): GraphDescription => ({ pipelines: [], components: [] }) };
      assert.deepEqual(configFiles(host, ['node', 'sonde', 'run', '--config', 'a.yaml', '-c', 'b.yaml', '--config=c.yaml', '--config=yaml:secret: x']), ['a.yaml', 'b.yaml', 'c.yaml']);
    });

    it('serves pipelinez from host.describe(), escaped', async () => {
      const z = await started(zpagesExtensionFactory, 'zpages', { endpoint: '127.0.0.1:0' });
      const json = JSON.parse((await get(z, '/debug/pipelinez?format=json')).body) as GraphDescription;
      assert.deepEqual(json.pipelines, graph.pipelines);
      assert.deepEqual(json.components, graph.components);
      const html = (await get(z, '/debug/pipelinez')).body;
      assert.ok(html.includes('metrics/node') && html.includes('prometheus_remote_write') && html.includes('memory_limiter'));
      assert.ok(!html.includes('<script>'), 'no raw script tag');
      assert.ok(html.includes('otlp/&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'));
    });

    it('serves the live component counts from host.stats()', async () => {
      const host = makeHost();
      const z = await started(zpagesExtensionFactory, 'zpages', { endpoint: '127.0.0.1:0' }, host);
      const json = JSON.parse((await get(z, '/debug/componentz?format=json')).body) as { components: ReturnType<Host['stats']> };
      assert.deepEqual(json.components, host.stats());
      const rx = json.components.find((c) => c.id === 'otlp' && c.kind === 'receiver');
      assert.equal(rx?.signals.traces?.accepted, 1200);
      const html = await get(z, '/debug/componentz');
      assert.ok(html.body.includes('<td class="n">1200</td>') && html.body.includes('queue_full: 5'));
      assert.ok(html.body.includes('&#60;bad&#62;: 2') && !html.body.includes('<bad>'));
      assert.ok(html.body.includes('http-equiv="refresh"'));
      assert.equal((await get(z, '/debug/nothing')).status, 404);
      assert.equal((await get(z, '/')).status, 200);
    });
  });

  describe('pprof', () => {
    it('accepts the Go-only options with warnings', () => {
      const { value, issues } = readConfig(pprofExtensionFactory.config, { block_profile_fraction: 3, mutex_profile_fraction: 5 });
      assert.deepEqual(value, { endpoint: '127.0.0.1:1777', save_to_file: '' });
      assert.deepEqual(issues.map((i) => [i.severity, i.path[0]]), [['warning', 'block_profile_fraction'], ['warning', 'mutex_profile_fraction']]);
    });

    it('serves a CPU profile that decodes as pprof with CPU samples', async () => {
      const p = await started(pprofExtensionFactory, 'pprof', { endpoint: '127.0.0.1:0' });
      const response = fetch(url(p, '/debug/pprof/profile?seconds=1'));
      await burnCpuFor(1500);
      const res = await response;
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      const prof = decodeProfile(Buffer.from(await res.arrayBuffer()));
      assert.deepEqual(prof.sampleTypes.map(([t]) => t), ['sample', 'wall', 'cpu']);
      assert.deepEqual(prof.sampleTypes[2], ['cpu', 'nanoseconds']);
      assert.ok(prof.samples.length > 0, 'samples');
      const cpuIndex = 2;
      const cpuNanos = prof.samples.reduce((sum, s) => sum + (s[cpuIndex] ?? 0n), 0n);
      assert.ok(cpuNanos > 100_000_000n, `cpu time ${cpuNanos}ns`);
      assert.ok(prof.functionNames.includes('burnCpu'), 'the busy function is in the profile');
    });

    it('serves a heap profile that decodes as pprof with live-heap samples', async () => {
      const p = await started(pprofExtensionFactory, 'pprof', { endpoint: '127.0.0.1:0' });
      const keep = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item-${i}` }));
      const res = await fetch(url(p, '/debug/pprof/heap'));
      assert.equal(res.status, 200);
      const prof = decodeProfile(Buffer.from(await res.arrayBuffer()));
      assert.deepEqual(prof.sampleTypes, [['inuse_objects', 'count'], ['inuse_space', 'bytes']]);
      assert.ok(prof.samples.length > 0);
      const space = prof.samples.reduce((sum, s) => sum + (s[1] ?? 0n), 0n);
      assert.ok(space > 1_000_000n, `inuse_space ${space}`);
      assert.equal(keep.length, 200_000);
    });

    it('writes a CPU profile from start to shutdown to save_to_file, and refuses a second one meanwhile', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sonde-pprof-'));
      try {
        const file = join(dir, 'cpu.pprof');
        const p = await started(pprofExtensionFactory, 'pprof/save', { endpoint: '127.0.0.1:0', save_to_file: file });
        const busy = await get(p, '/debug/pprof/profile?seconds=1');
        assert.equal(busy.status, 500);
        assert.equal(busy.body, 'Could not enable CPU profiling: cpu profiling already in use\n');
        await burnCpuFor(400);
        await p.shutdown();
        const prof = decodeProfile(await readFile(file));
        assert.deepEqual(prof.sampleTypes[2], ['cpu', 'nanoseconds']);
        assert.ok(prof.samples.length > 0);
        assert.ok(prof.functionNames.includes('burnCpu'));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('ends an on-demand profile early at shutdown', async () => {
      const p = await started(pprofExtensionFactory, 'pprof', { endpoint: '127.0.0.1:0' });
      const pending = fetch(url(p, '/debug/pprof/profile?seconds=60')).catch((err: unknown) => err);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await p.shutdown();
      await pending;
      assert.ok(Date.now() - t0 < 5000);
      // The profiler is free again.
      const again = await started(pprofExtensionFactory, 'pprof/2', { endpoint: '127.0.0.1:0', save_to_file: join(tmpdir(), `sonde-${process.pid}.pprof`) });
      await again.shutdown();
      await rm(join(tmpdir(), `sonde-${process.pid}.pprof`), { force: true });
    });
  });

  describe('every server', () => {
    const cases: [ExtensionFactory, string][] = [
      [healthCheckExtensionFactory, 'health_check'],
      [zpagesExtensionFactory, 'zpages'],
      [pprofExtensionFactory, 'pprof'],
    ];
    for (const [factory, id] of cases) {
      it(`${id}: fails start naming the address when the port is taken`, async () => {
        const blocker = await takenPort();
        try {
          const c = create(factory, id, { endpoint: `127.0.0.1:${blocker.port}` });
          await assert.rejects(c.start(makeHost()), (err: Error) => {
            assert.equal(err.message, `extensions::${id}: listen 127.0.0.1:${blocker.port}: EADDRINUSE (address already in use)`);
            return true;
          });
          await c.shutdown();
        } finally {
          await blocker.close();
        }
      });

      it(`${id}: shuts down without start, and twice after start; the port is released`, async () => {
        const never = create(factory, id, { endpoint: '127.0.0.1:0' });
        await never.shutdown();
        await never.shutdown();
        const c = create(factory, id, { endpoint: '127.0.0.1:0' });
        await c.start(makeHost());
        const port = c.address()!.port;
        await c.shutdown();
        await c.shutdown();
        // The same port binds again: it was really closed.
        const again = create(factory, id, { endpoint: `127.0.0.1:${port}` });
        await again.start(makeHost());
        await again.shutdown();
      });
    }
  });
});
