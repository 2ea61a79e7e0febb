// librdkafka's mock Kafka cluster (3 brokers on 127.0.0.1, topics auto-created with 4
// partitions), held by a Debian `kcat` process for as long as the test needs it, and a kcat
// reader that returns a topic's raw messages. kafkajs' admin.createTopics fails against the
// mock: topics are created by naming them (here, by the kcat that holds the cluster).
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import Long from 'long';
import { codecs } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices, otlpGrpcServiceNames } from '../../pipeline/otlp/grpc';
import type { KeyValue, Span, TracesData } from '../../pipeline/pdata';

export interface RawMessage { partition: number; offset: number; key: Buffer | null; value: Buffer }

export interface KafkaMock {
  /** host:port of the three brokers. */
  brokers: string[];
  /**
   * Every message of `topic` from the beginning, read by kcat (librdkafka), not kafkajs. For the
   * topic the cluster was started with, what the holding kcat consumed as messages arrived: the
   * mock keeps only about 5 MB per partition and deletes older messages. Other topics are read
   * from what the mock still holds.
   */
  readTopic(topic: string): Promise<RawMessage[]>;
  stop(): Promise<void>;
}

/** Starts the mock cluster; `topic` exists (4 partitions) once this resolves. */
export async function startKafkaMock(topic = 'sonde_mock_bootstrap', timeoutMs = 15_000): Promise<KafkaMock> {
  const child = spawn('kcat', ['-X', 'test.mock.num.brokers=3', '-b', 'x:1', '-C', '-t', topic, '-o', 'beginning', '-u', '-f', FORMAT], { stdio: ['ignore', 'pipe', 'pipe'] });
  const consumed = new MessageParser();
  child.stdout!.on('data', (b: Buffer) => consumed.push(b));
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const brokers = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kcat mock cluster not up after ${timeoutMs} ms:\n${err}`)); }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run kcat (apt-get install kcat): ${e.message}`)); });
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /replaced with (\S+)/.exec(err);
      // The partitions are there once kcat reports the end of them.
      if (m && /Reached end of topic/.test(err)) { clearTimeout(timer); resolve(m[1]!.split(',')); }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`kcat exited before the mock cluster was up:\n${err}`)); });
  });
  let stopped = false;
  return {
    brokers,
    readTopic: async (t) => {
      if (t !== topic) return readTopic(brokers, t);
      // Called once producers are done: kcat has caught up when its count stops growing.
      for (let last = -1; last !== consumed.messages.length;) {
        last = consumed.messages.length;
        await new Promise((r) => setTimeout(r, 1500));
      }
      return consumed.messages;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A header line per message giving the sizes, so binary keys and payloads parse exactly. */
const FORMAT = '%p %o %K %S\n%k%s';

/** Parses kcat's FORMAT output as it streams in. */
class MessageParser {
  readonly messages: RawMessage[] = [];
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const [p, o, k, v] = this.buf.subarray(pos, nl).toString().split(' ').map(Number) as [number, number, number, number];
      const start = nl + 1;
      const end = start + Math.max(k, 0) + v;
      if (end > this.buf.length) break;
      const key = k < 0 ? null : Buffer.from(this.buf.subarray(start, start + k));
      this.messages.push({ partition: p, offset: o, key, value: Buffer.from(this.buf.subarray(start + Math.max(k, 0), end)) });
      pos = end;
    }
    this.buf = this.buf.subarray(pos);
  }
}

/** `kcat -C -e`: what the mock still holds of a topic. */
async function readTopic(brokers: string[], topic: string): Promise<RawMessage[]> {
  const child: ChildProcess = spawn('kcat', ['-b', brokers.join(','), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', FORMAT], { stdio: ['ignore', 'pipe', 'pipe'] });
  const parser = new MessageParser();
  let err = '';
  child.stdout!.on('data', (b: Buffer) => parser.push(b));
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`kcat -C -t ${topic} exited with ${code}: ${err}`);
  return parser.messages;
}

// ---- traffic for the Kafka tests and bench/kafka-throughput --------------------------------------

/** Span i's ids: trace (i % traces) and span i, both readable back from the bytes. */
export function spanIds(i: number, traces: number): { traceId: Buffer; spanId: Buffer } {
  const traceId = Buffer.alloc(16);
  traceId.write('5e4d', 0, 'hex');
  traceId.writeUInt32BE(i % traces, 12);
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(0x5a, 0);
  spanId.writeUInt32BE(i, 4);
  return { traceId, spanId };
}

/**
 * `total` spans as OTLP ExportTraceServiceRequests of `perRequest` spans. Span i belongs to trace
 * i % traces, so each trace's spans are spread over many requests (and agent batches).
 */
export function spanRequests(total: number, perRequest: number, traces: number): Uint8Array[] {
  const now = Long.fromNumber(Date.now(), true).multiply(1_000_000);
  const attr = (key: string, v: string | number): KeyValue => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } });
  const out: Uint8Array[] = [];
  for (let first = 0; first < total; first += perRequest) {
    const spans: Span[] = [];
    for (let i = first; i < Math.min(total, first + perRequest); i++) {
      const { traceId, spanId } = spanIds(i, traces);
      spans.push({
        traceId, spanId, name: `GET /api/items/${i % 50}`, kind: 2,
        startTimeUnixNano: now.add(i * 1000), endTimeUnixNano: now.add(i * 1000 + 250_000),
        attributes: [
          attr('http.request.method', 'GET'), attr('url.path', `/api/items/${i % 50}`), attr('http.response.status_code', 200),
          attr('server.address', 'shop.local'), attr('server.port', 8080), attr('client.address', '10.0.0.7'),
          attr('network.peer.port', 40000 + (i % 1000)), attr('user_agent.original', 'kafka-test/1.0'),
        ],
        events: [{ name: 'received', timeUnixNano: now.add(i * 1000 + 1000), attributes: [attr('bytes', 512)] }],
        links: [], status: { code: 1 },
      });
    }
    const data: TracesData = {
      resourceSpans: [{ resource: { attributes: [attr('service.name', 'kafka-test'), attr('host.name', 'node-1')] }, scopeSpans: [{ scope: { name: 'kafka-test', attributes: [] }, spans }] }],
    };
    out.push(codecs.traces.encodeRequest(data));
  }
  return out;
}

/** Sends pre-encoded trace requests over OTLP/gRPC, `concurrency` calls in flight; retries refusals. */
export async function sendOtlpGrpc(endpoint: string, requests: readonly Uint8Array[], concurrency = 8): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(otlpGrpcRawServices.traces, otlpGrpcServiceNames.traces);
  const client = new Client(endpoint, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }) as unknown as grpc.Client & {
    Export(req: Uint8Array, cb: (e: grpc.ServiceError | null) => void): void;
  };
  let next = 0;
  const call = (req: Uint8Array): Promise<grpc.ServiceError | null> => new Promise((resolve) => client.Export(req, (e) => resolve(e)));
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const req = requests[next++]!;
      for (let attempt = 0; ; attempt++) {
        const e = await call(req);
        if (!e) break;
        if (e.code !== grpc.status.UNAVAILABLE && e.code !== grpc.status.RESOURCE_EXHAUSTED) throw new Error(`Export failed: ${e.message}`);
        if (attempt > 100) throw new Error(`Export still refused after ${attempt} attempts: ${e.message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    client.close();
  }
}
