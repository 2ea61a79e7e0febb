// OTLP push of Sonde's own metrics to small real receivers stood up here: a node:http server
// capturing the SDK exporter's POST /v1/metrics, and a gRPC server taking MetricsService/Export
// as raw bytes. The bodies are protobuf ExportMetricsServiceRequests; we check they carry the
// metric names and the resource without depending on Sonde's own OTLP codec.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { TelemetryConfig } from '../../pipeline/config/types';
import { silentLogger } from '../../pipeline/logger';
import { SelfTelemetry } from '../../pipeline/telemetry';

interface Captured { path: string; headers: IncomingHttpHeaders; body: Buffer }

async function httpReceiver(): Promise<{ server: Server; port: number; bodies: Captured[] }> {
  const bodies: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      // An empty ExportMetricsServiceResponse.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, bodies };
}

async function grpcReceiver(): Promise<{ server: grpc.Server; port: number; bodies: Buffer[]; metadata: grpc.Metadata[] }> {
  const bodies: Buffer[] = [];
  const metadata: grpc.Metadata[] = [];
  const raw = (b: Buffer): Buffer => b;
  const service: grpc.ServiceDefinition = {
    Export: {
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  };
  const server = new grpc.Server();
  server.addService(service, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      bodies.push(call.request);
      metadata.push(call.metadata);
      cb(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port, bodies, metadata };
}

function config(otlp: NonNullable<TelemetryConfig['metrics']['otlp']>): TelemetryConfig {
  // No Prometheus endpoint: push only.
  return { metrics: { level: 'normal', prometheus: '', otlp }, logs: { level: 'info' }, resource: { 'k8s.node.name': 'node-a' } };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('telemetry: OTLP push (integration)', () => {
  it('pushes protobuf over HTTP periodically and on shutdown', async () => {
    const rx = await httpReceiver();
    const t = new SelfTelemetry(
      config({ endpoint: `http://127.0.0.1:${rx.port}`, protocol: 'http/protobuf', intervalMs: 100, headers: { 'x-tenant': 'sonde-test' } }),
      silentLogger, { command: 'sonde', version: '9.9.9' });
    try {
      const c = t.forComponent('otlp', 'receiver');
      c.accepted('traces', 42);
      t.forComponent('otlp_http', 'exporter').failed('logs', 3);
      await t.start();
      await until(() => rx.bodies.length > 0);
      const first = rx.bodies[0]!;
      assert.equal(first.path, '/v1/metrics');
      assert.equal(first.headers['content-type'], 'application/x-protobuf');
      assert.equal(first.headers['x-tenant'], 'sonde-test');
      assert.ok(first.body.length > 0);
      const text = first.body.toString('latin1');
      for (const name of ['sonde_receiver_accepted_spans', 'sonde_exporter_send_failed_log_records', 'sonde_process_memory_rss', 'service.instance.id', 'k8s.node.name', 'node-a', '9.9.9']) {
        assert.ok(text.includes(name), `${name} in the pushed body`);
      }
      // A count made just before shutdown is pushed by the final flush.
      const before = rx.bodies.length;
      t.forComponent('late', 'exporter').sent('metrics', 1);
      await t.shutdown();
      assert.ok(rx.bodies.length > before);
      assert.ok(rx.bodies.at(-1)!.body.toString('latin1').includes('sonde_exporter_sent_metric_points'));
    } finally {
      await t.shutdown();
      await new Promise((r) => rx.server.close(r));
    }
  });

  it('pushes over gRPC with the headers as metadata', async () => {
    const rx = await grpcReceiver();
    const t = new SelfTelemetry(
      config({ endpoint: `http://127.0.0.1:${rx.port}`, protocol: 'grpc', intervalMs: 100, headers: { 'x-tenant': 'grpc-test' } }),
      silentLogger, { command: 'sonde', version: '1.2.3' });
    try {
      t.forComponent('batch', 'processor').accepted('traces', 7);
      await t.start();
      await until(() => rx.bodies.length > 0);
      const body = rx.bodies[0]!.toString('latin1');
      assert.ok(body.includes('sonde_processor_incoming_items'));
      assert.deepEqual(rx.metadata[0]!.get('x-tenant'), ['grpc-test']);
    } finally {
      await t.shutdown();
      rx.server.forceShutdown();
    }
  });

  it('logs and carries on when the push target is down', async () => {
    const rx = await httpReceiver();
    const port = rx.port;
    await new Promise((r) => rx.server.close(r)); // nothing listens there now
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (msg: string) => { warnings.push(msg); }, with: () => logger };
    const t = new SelfTelemetry(config({ endpoint: `127.0.0.1:${port}`, protocol: 'http/protobuf', intervalMs: 50, headers: {} }), logger, { command: 'sonde', version: '1' });
    await t.start();
    t.forComponent('otlp', 'receiver').accepted('traces', 1);
    await until(() => warnings.length > 0);
    await t.shutdown();
    assert.match(warnings[0]!, /OTLP push failed/);
  });
});
