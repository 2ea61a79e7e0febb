// Back-pressure in process, against real gRPC and HTTP clients on loopback:
// - a Service built from YAML (otlp -> memory_limiter -> file) whose limit is below the process's
//   RSS refuses every request with UNAVAILABLE + RetryInfo / 503 + Retry-After, counted as
//   refused by the processor and the receiver; with a high limit the same requests pass;
// - the otlp receiver's admission.request_limit_mib refuses at once, while earlier requests
//   still wait in the pipeline, and admits again once they are answered.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { factories } from '../../components';
import type { ComponentStats, ComponentTelemetry, Consumer, Host, Settings } from '../../pipeline/component';
import { formatDiagnostic, loadConfig } from '../../pipeline/config/load';
import { readConfig } from '../../pipeline/config/schema';
import { silentLogger } from '../../pipeline/logger';
import { codecs, decodeStatus } from '../../pipeline/otlp/codec';
import type { Signal, TracesData } from '../../pipeline/pdata';
import { Registry } from '../../pipeline/registry';
import { Service } from '../../pipeline/service';
import { SelfTelemetry } from '../../pipeline/telemetry';
import { memoryLimiterProcessorFactory } from '../../processors/memory_limiter';
import { otlpReceiverFactory } from '../../receivers/otlp';
import type { OtlpReceiver } from '../../receivers/otlp/receiver';
import { freePort, tempDir, waitFor } from '../helpers/sonde-process';

const registry = new Registry(factories.some((f) => f.type === 'memory_limiter') ? factories : [...factories, memoryLimiterProcessorFactory]);
const buildInfo = { command: 'sonde', version: 'test' };

function traces(spans: number, attrBytes = 0): TracesData {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bp' } }] },
      scopeSpans: [{
        scope: { name: 'bp', attributes: [] },
        spans: Array.from({ length: spans }, (_, i) => ({
          traceId: randomBytes(16), spanId: randomBytes(8), name: `span-${i}`,
          attributes: attrBytes ? [{ key: 'pad', value: { stringValue: 'x'.repeat(attrBytes) } }] : [], events: [], links: [],
        })),
      }],
    }],
  };
}

const encode = (t: TracesData): Buffer => { const u = codecs.traces.encodeRequest(t); return Buffer.from(u.buffer, u.byteOffset, u.byteLength); };

interface HttpAnswer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function post(addr: string, body: Buffer): Promise<HttpAnswer> {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: addr.slice(0, i), port: Number(addr.slice(i + 1)), path: '/v1/traces', method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function grpcExport(addr: string, body: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(codecs.traces.grpcPath, id, id, body, new grpc.Metadata(), { deadline: Date.now() + 20_000 }, (err) => {
      client.close();
      resolve(err);
    });
  });
}

function retryInfoMs(err: grpc.ServiceError): number | undefined {
  const details = err.metadata.get('grpc-status-details-bin')[0];
  return Buffer.isBuffer(details) ? decodeStatus(details).retryAfterMs : undefined;
}

function refusedOf(stats: ComponentStats[], id: string, kind: string): number {
  return stats.find((c) => c.id === id && c.kind === kind)?.signals.traces?.refused ?? 0;
}

describe('back-pressure in process', function () {
  this.timeout(30_000);

  describe('memory_limiter in a service', () => {
    const running: { service: Service; telemetry: SelfTelemetry }[] = [];
    afterEach(async () => {
      for (const r of running.splice(0)) await r.service.shutdown();
    });

    async function startService(limiter: string): Promise<{ grpcAddr: string; httpAddr: string; telemetry: SelfTelemetry; out: string }> {
      const dir = tempDir();
      const out = path.join(dir, 'out.jsonl');
      const [g, h] = [await freePort(), await freePort()];
      const file = path.join(dir, 'c.yaml');
      fs.writeFileSync(file, `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${g} }
      http: { endpoint: 127.0.0.1:${h} }
processors:
  memory_limiter: ${limiter}
exporters:
  file: { path: ${out} }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter], exporters: [file] }
`);
      const { config, diagnostics } = loadConfig([file], registry, {});
      assert.ok(config, diagnostics.map(formatDiagnostic).join('\n'));
      const telemetry = new SelfTelemetry(config.service.telemetry, silentLogger, buildInfo);
      const service = new Service({ config, logger: silentLogger, telemetry, buildInfo });
      await service.start();
      running.push({ service, telemetry });
      return { grpcAddr: `127.0.0.1:${g}`, httpAddr: `127.0.0.1:${h}`, telemetry, out };
    }

    it('refuses over gRPC and HTTP with retryable statuses while RSS is above the soft limit, and counts it', async () => {
      // Any Node process is above 1 MiB: the limiter refuses from its first check on.
      const s = await startService('{ check_interval: 100ms, limit_mib: 2, spike_limit_mib: 1 }');
      const err = await grpcExport(s.grpcAddr, encode(traces(3)));
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.match(err.details, /memory_limiter: data refused due to high memory usage/);
      assert.equal(retryInfoMs(err), 1000);
      const res = await post(s.httpAddr, encode(traces(4)));
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(decodeStatus(res.body).code, 14);
      const stats = s.telemetry.snapshot();
      assert.equal(refusedOf(stats, 'memory_limiter', 'processor'), 7);
      assert.equal(refusedOf(stats, 'otlp', 'receiver'), 7);
      assert.equal(fs.existsSync(s.out) ? fs.readFileSync(s.out, 'utf8') : '', '', 'nothing reached the exporter');
    });

    it('passes data on under the limit', async () => {
      const s = await startService('{ check_interval: 1s, limit_mib: 100000 }');
      assert.equal(await grpcExport(s.grpcAddr, encode(traces(3))), null);
      assert.equal((await post(s.httpAddr, encode(traces(4)))).status, 200);
      const stats = s.telemetry.snapshot();
      assert.equal(stats.find((c) => c.id === 'memory_limiter')?.signals.traces?.accepted, 7);
      assert.equal(refusedOf(stats, 'memory_limiter', 'processor'), 0);
    });

    it('is refused by validation without check_interval, naming the component', () => {
      const file = path.join(tempDir(), 'c.yaml');
      fs.writeFileSync(file, `
receivers: { otlp: { protocols: { grpc: } } }
processors: { memory_limiter: { limit_mib: 100 } }
exporters: { file: { path: /tmp/x.jsonl } }
service: { pipelines: { traces: { receivers: [otlp], processors: [memory_limiter], exporters: [file] } } }
`);
      const { config, diagnostics } = loadConfig([file], registry, {});
      assert.equal(config, undefined);
      assert.match(diagnostics.map(formatDiagnostic).join('\n'), /memory_limiter.*check_interval/s);
    });
  });

  describe('otlp receiver admission.request_limit_mib', () => {
    class Telemetry implements ComponentTelemetry {
      readonly counts = new Map<string, number>();
      gauge: (() => number) | undefined;
      private add(k: string, n: number): void { this.counts.set(k, (this.counts.get(k) ?? 0) + n); }
      accepted(_s: Signal, n: number): void { this.add('accepted', n); }
      refused(_s: Signal, n: number): void { this.add('refused', n); }
      dropped(): void {}
      sent(): void {}
      failed(): void {}
      observeGauge(name: string, _d: string, read: () => number): void { if (name === 'receiver_in_flight_bytes') this.gauge = read; }
      count(name: string, n: number, attrs?: Record<string, string>): void { this.add(`${name}:${attrs?.protocol ?? ''}`, n); }
    }

    /** Holds every batch until released: requests stay in flight. */
    class Gate implements Consumer<TracesData> {
      waiting = 0;
      private release: (() => void)[] = [];
      async consume(): Promise<void> {
        this.waiting++;
        await new Promise<void>((r) => this.release.push(r));
        this.waiting--;
      }
      open(): void { for (const r of this.release.splice(0)) r(); }
    }

    const host: Host = { getExtension: () => undefined, reportFatalError: () => {}, describe: () => ({ pipelines: [], components: [] }), stats: () => [] };
    let receiver: OtlpReceiver | undefined;
    afterEach(async () => { await receiver?.shutdown(); receiver = undefined; });

    async function start(limitMib: number): Promise<{ t: Telemetry; gate: Gate; g: string; h: string }> {
      const t = new Telemetry();
      const gate = new Gate();
      const { value, issues } = readConfig(otlpReceiverFactory.config, {
        protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } },
        admission: { request_limit_mib: limitMib },
      });
      assert.deepEqual(issues, []);
      const settings: Settings = { id: 'otlp', kind: 'receiver', logger: silentLogger, telemetry: t, buildInfo };
      receiver = otlpReceiverFactory.create(settings, value, { traces: gate }) as OtlpReceiver;
      await receiver.start(host);
      return { t, gate, g: receiver.grpcAddress()!, h: receiver.httpAddress()! };
    }

    it('refuses at once beyond the limit, over both protocols, and admits again once work is answered', async () => {
      // ~100 KiB limit; each request below is ~60 KiB.
      const { t, gate, g, h } = await start(0.1);
      const body = encode(traces(2, 30_000));
      assert.ok(body.length > 55_000 && body.length < 70_000, `request of ${body.length} bytes`);
      const first = grpcExport(g, body);
      await waitFor(() => gate.waiting === 1, 10_000, 'the first request to wait in the pipeline');
      assert.ok(t.gauge!() >= body.length, 'its bytes are in flight');

      const err = await grpcExport(g, body);
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.match(err.details, /admission\.request_limit_mib/);
      assert.equal(retryInfoMs(err), 1000);
      const res = await post(h, body);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(decodeStatus(res.body).code, 14);
      assert.equal(t.counts.get('receiver_refused_requests:grpc'), 1);
      assert.equal(t.counts.get('receiver_refused_requests:http'), 1);
      assert.equal(gate.waiting, 1, 'refused requests never reached the pipeline');

      gate.open();
      assert.equal(await first, null);
      assert.equal(t.gauge!(), 0, 'every reservation released');
      const again = post(h, body);
      await waitFor(() => gate.waiting === 1, 10_000, 'the next request to be admitted');
      gate.open();
      assert.equal((await again).status, 200);
      assert.equal(t.counts.get('accepted'), 4);
    });

    it('refuses a chunked body once it grows past the limit', async () => {
      const { t, gate, h } = await start(0.1);
      const small = encode(traces(1, 40_000));
      const first = post(h, small);
      await waitFor(() => gate.waiting === 1, 10_000, 'the first request to wait');
      const i = h.lastIndexOf(':');
      const res = await new Promise<number>((resolve, reject) => {
        const req = http.request({ hostname: h.slice(0, i), port: Number(h.slice(i + 1)), path: '/v1/traces', method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Transfer-Encoding': 'chunked' }, agent: false }, (r) => { r.resume(); resolve(r.statusCode!); });
        req.on('error', reject);
        req.end(encode(traces(2, 40_000)));
      });
      assert.equal(res, 503);
      assert.equal(t.counts.get('receiver_refused_requests:http'), 1);
      gate.open();
      assert.equal((await first).status, 200);
      assert.equal(t.gauge!(), 0);
    });
  });
});
