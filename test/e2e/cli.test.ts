// The CLI as a user runs it: validate, components, help, start failures, and SIGTERM draining
// data held by the batch processor.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import Long from 'long';
import { codecs } from '../../pipeline/otlp/codec';
import type { TracesData } from '../../pipeline/pdata';
import { freePort, ROOT, runSonde, startSonde, tempDir, waitFor } from '../helpers/sonde-process';

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function traces(n: number, seed: number): TracesData {
  const now = Long.fromNumber(Date.now(), true).multiply(1_000_000);
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${seed}` } }] },
      scopeSpans: [{
        spans: Array.from({ length: n }, (_, i) => {
          const traceId = Buffer.alloc(16); traceId.writeUInt32BE(seed + 1, 0); traceId.writeUInt32BE(i, 12);
          const spanId = Buffer.alloc(8); spanId.writeUInt32BE(i + 1, 4);
          return { traceId, spanId, name: `op ${i}`, startTimeUnixNano: now, endTimeUnixNano: now.add(1000), attributes: [], events: [], links: [] };
        }),
      }],
    }],
  };
}

function post(port: number, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('e2e: sonde CLI', function () {
  this.timeout(60_000);

  it('validate: exit 0 for config/default.yaml', async () => {
    const r = await runSonde(['validate', '--config', path.join(ROOT, 'config', 'default.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid/);
  });

  it('validate: exit 1 with every error, positioned, on stderr', async () => {
    const dir = tempDir();
    const file = write(dir, 'bad.yaml', `receivers:
  otlpp:
    protocols:
      grpc:
exporters:
  debug:
    verbosity: loud
service:
  pipelines:
    traces:
      receivers: [otlpp]
      exporters: [debug]
`);
    const r = await runSonde(['validate', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file}:2:3: .*unknown receiver type "otlpp".*did you mean "otlp"`));
    assert.match(r.stderr, new RegExp(`${file}:7:16: .*exporters::debug.*verbosity`));
  });

  it('components: lists every type with its signals and stability', async () => {
    const r = await runSonde(['components']);
    assert.equal(r.code, 0, r.stderr);
    for (const t of ['otlp', 'batch', 'otlphttp', 'debug', 'file', 'forward', 'health_check', 'zpages', 'pprof']) {
      assert.match(r.stdout, new RegExp(`\\b${t}\\b`), t);
    }
    assert.match(r.stdout, /traces: (stable|beta|alpha|development)/);
    const json = JSON.parse((await runSonde(['components', '--json'])).stdout) as { kind: string; type: string }[];
    assert.ok(json.some((c) => c.kind === 'connector' && c.type === 'forward'));
  });

  it('--help and unknown commands', async () => {
    const help = await runSonde(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /sonde run --config FILE/);
    const bad = await runSonde(['frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
  });

  it('exits non-zero naming the component when it cannot start', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const dir = tempDir();
      const file = write(dir, 'busy.yaml', `
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${port}" } } } }
exporters: { debug: }
service:
  telemetry: { metrics: { level: none } }
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
`);
      const r = await runSonde(['run', '--config', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /receivers::otlp/);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      busy.close();
    }
  });

  it('SIGTERM with data in the batch processor: nothing lost, exit 0', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out.jsonl');
    const port = await freePort();
    const sonde = await startSonde(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:${port}" } } } }
processors: { batch: { send_batch_size: 1000000, timeout: 1h } }
exporters: { file: { path: ${out} } }
service:
  telemetry: { metrics: { level: none } }
  pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [file] } }
`, { dir });
    const requests = Array.from({ length: 5 }, (_, i) => post(port, codecs.traces.encodeRequest(traces(1000, i))));
    // The batch holds everything (size and timeout are far away): nothing is in the file yet.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fs.existsSync(out) ? fs.readFileSync(out, 'utf8').length : 0, 0);
    const code = await sonde.stop('SIGTERM');
    assert.deepEqual(await Promise.all(requests), [200, 200, 200, 200, 200], 'every sender got its success once the data was flushed');
    assert.equal(code, 0, sonde.stderr());
    await waitFor(() => fs.existsSync(out), 1000, 'the output file');
    let spans = 0;
    const ids = new Set<string>();
    for (const line of fs.readFileSync(out, 'utf8').split('\n').filter(Boolean)) {
      for (const rs of codecs.traces.decodeRequestJson(line).resourceSpans) {
        for (const ss of rs.scopeSpans) for (const s of ss.spans) { spans++; ids.add(Buffer.from(s.traceId!).toString('hex')); }
      }
    }
    assert.equal(spans, 5000);
    assert.equal(ids.size, 5000);
    assert.match(sonde.stderr(), /"msg":"stopped"/);
  });
});
