// Acceptance: a real OpenTelemetry JS application (sdk-node + the SDK's OTLP exporters) sends to
// a Sonde process, whose pipeline (otlp -> batch -> otlp|otlphttp) exports to a second Sonde
// process writing `file`; the file must hold exactly what the SDK exported, field for field.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codecs } from '../../pipeline/otlp/codec';
import type { Signal } from '../../pipeline/pdata';
import { logsFromOtlp, pointsFromOtlp, sortCanon, spansFromOtlp } from '../helpers/canonical';
import { runOtelSender } from '../helpers/run-otel-sender';
import { completeLines, freePort, startSonde, tempDir, waitFor, type SondeProcess } from '../helpers/sonde-process';

type SdkProtocol = 'grpc' | 'http/protobuf' | 'http/json';
type Hop = 'otlp' | 'otlphttp/proto' | 'otlphttp/json';

interface Case { signal: Signal; sdk: SdkProtocol; hop: Hop; count: number }

const CASES: Case[] = [
  { signal: 'traces', sdk: 'grpc', hop: 'otlp', count: 10_000 },
  { signal: 'traces', sdk: 'http/json', hop: 'otlphttp/json', count: 10_000 },
  { signal: 'traces', sdk: 'http/protobuf', hop: 'otlphttp/proto', count: 10_000 },
  { signal: 'metrics', sdk: 'grpc', hop: 'otlp', count: 500 },
  { signal: 'metrics', sdk: 'http/json', hop: 'otlphttp/json', count: 500 },
  { signal: 'metrics', sdk: 'http/protobuf', hop: 'otlphttp/proto', count: 500 },
  { signal: 'logs', sdk: 'grpc', hop: 'otlp', count: 3_000 },
  { signal: 'logs', sdk: 'http/json', hop: 'otlphttp/json', count: 3_000 },
  { signal: 'logs', sdk: 'http/protobuf', hop: 'otlphttp/proto', count: 3_000 },
];

function exporterYaml(hop: Hop, grpcPort: number, httpPort: number): string {
  if (hop === 'otlp') return `otlp:\n    endpoint: 127.0.0.1:${grpcPort}\n    tls: { insecure: true }`;
  const encoding = hop === 'otlphttp/json' ? 'json' : 'proto';
  return `otlphttp:\n    endpoint: http://127.0.0.1:${httpPort}\n    encoding: ${encoding}`;
}

function readFileItems(signal: Signal, file: string): unknown[] {
  const items: unknown[] = [];
  for (const line of completeLines(file)) {
    if (signal === 'traces') items.push(...spansFromOtlp(codecs.traces.decodeRequestJson(line)));
    else if (signal === 'metrics') items.push(...pointsFromOtlp(codecs.metrics.decodeRequestJson(line)));
    else items.push(...logsFromOtlp(codecs.logs.decodeRequestJson(line)));
  }
  return items;
}


describe('e2e: OTel SDK -> sonde -> sonde -> file', function () {
  this.timeout(180_000);
  const running: SondeProcess[] = [];
  afterEach(async () => { await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL'))); });

  for (const c of CASES) {
    it(`${c.signal}: SDK over ${c.sdk}, hop over ${c.hop}, ${c.count} ${c.signal === 'traces' ? 'spans' : c.signal === 'logs' ? 'records' : 'iterations'}`, async () => {
      const dir = tempDir();
      const out = path.join(dir, 'out.jsonl');
      const [bGrpc, bHttp, aGrpc, aHttp] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const b = await startSonde(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${bGrpc} }
      http: { endpoint: 127.0.0.1:${bHttp} }
exporters:
  file: { path: ${out} }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    ${c.signal}: { receivers: [otlp], exporters: [file] }
`, { dir });
      running.push(b);
      const a = await startSonde(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${aGrpc} }
      http: { endpoint: 127.0.0.1:${aHttp} }
processors:
  batch: { send_batch_size: 1000, timeout: 100ms }
exporters:
  ${exporterYaml(c.hop, bGrpc, bHttp)}
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    ${c.signal}: { receivers: [otlp], processors: [batch], exporters: [${c.hop.split('/')[0]}] }
`, { dir });
      running.push(a);

      const expectedFile = path.join(dir, 'expected.json');
      await runOtelSender({
        SIGNAL: c.signal, PROTOCOL: c.sdk, COUNT: String(c.count), EXPECTED_OUT: expectedFile,
        ENDPOINT: `http://127.0.0.1:${c.sdk === 'grpc' ? aGrpc : aHttp}`,
      });
      const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as unknown[];
      if (c.signal === 'traces' || c.signal === 'logs') assert.equal(expected.length, c.count, 'the SDK exported every item');
      else assert.ok(expected.length > 20, `metrics points exported: ${expected.length}`);

      // Both Sondes drain on SIGTERM: what A still holds reaches B, and B closes the file.
      assert.equal(await a.stop('SIGTERM'), 0, a.stderr());
      await waitFor(() => readFileItems(c.signal, out).length >= expected.length, 10_000, 'the file to hold every item');
      assert.equal(await b.stop('SIGTERM'), 0, b.stderr());

      const got = readFileItems(c.signal, out);
      assert.equal(got.length, expected.length, 'no item lost or duplicated');
      assert.deepEqual(sortCanon(got), sortCanon(expected));
    });
  }
});
