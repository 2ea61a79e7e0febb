// `sonde run` with ebpf_http as a user runs it: a YAML pipeline ebpf_http -> batch -> file with
// nginx + curl (N requests -> N SERVER spans in the file), config/default.yaml as root (spans on
// the console and in the file, no other setup), and config/default.yaml without privileges
// (uid 65534, no capabilities): one line saying what is missing and how to run it, no stack
// trace, and the OTLP pipelines still serve.
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { codecs } from '../../pipeline/otlp/codec';
import { SpanKind, type AnyValue, type KeyValue, type Span, type TracesData } from '../../pipeline/pdata';
import { ensureEbpfBuild } from '../helpers/ebpf';
import { startNginx, type Nginx } from '../helpers/nginx';
import { completeLines, freePort, requireBuild, ROOT, SONDE_BIN, startSonde, tempDir, waitFor, type SondeProcess } from '../helpers/sonde-process';

const attr = (attrs: KeyValue[] | undefined, key: string): AnyValue | undefined => attrs?.find((a) => a.key === key)?.value;

interface FileSpan { exe: string; span: Span }

/** Every span in the file exporter's output (OTLP JSON lines) so far. */
function spansInFile(file: string): FileSpan[] {
  const out: FileSpan[] = [];
  for (const line of completeLines(file)) {
    const data: TracesData = codecs.traces.decodeRequestJson(line);
    for (const rs of data.resourceSpans) {
      const exe = attr(rs.resource?.attributes, 'process.executable.name')?.stringValue ?? '';
      for (const ss of rs.scopeSpans) for (const span of ss.spans) out.push({ exe, span });
    }
  }
  return out;
}

const port = (s: Span): number => Number(attr(s.attributes, 'server.port')?.intValue ?? -1);
const sattr = (s: Span, k: string): string | undefined => attr(s.attributes, k)?.stringValue;

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', args, { maxBuffer: 16 << 20 }, (err, out, stderr) => (err ? reject(new Error(`curl: ${err.message} ${stderr}`)) : resolve(out)));
  });
}

/** `sonde run` over several config files (merged in order), optionally as uid 65534 with no capabilities. */
async function runSonde(configs: string[], env: NodeJS.ProcessEnv, nobody: boolean, cwd: string): Promise<SondeProcess> {
  requireBuild();
  const argv = [SONDE_BIN, 'run', ...configs.flatMap((c) => ['--config', c])];
  const child: ChildProcess = nobody
    ? spawn('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, ...argv], { cwd, env: { ...process.env, HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => { gone = true; });
  await waitFor(() => gone || err.includes('everything is ready'), 60_000, `sonde ready:\n${err}`);
  if (gone) throw new Error(`sonde exited before ready:\n${err}`);
  return {
    child, exited, stdout: () => out, stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Endpoints of config/default.yaml moved to free ports, so the test runs beside anything. */
async function defaultConfigOverrides(dir: string, extra = ''): Promise<{ file: string; env: NodeJS.ProcessEnv; otlpHttp: number }> {
  const [grpc, http, health, zpages, metrics] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const file = path.join(dir, 'overrides.yaml');
  fs.writeFileSync(file, `
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  zpages: { endpoint: 127.0.0.1:${zpages} }
service:
  telemetry: { metrics: { level: normal, address: 127.0.0.1:${metrics} } }
${extra}`);
  return {
    file,
    otlpHttp: http,
    env: {
      SONDE_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      SONDE_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      SONDE_OUTPUT_FILE: path.join(dir, 'sonde-output.jsonl'),
    },
  };
}

describe('e2e: sonde run with ebpf_http', function () {
  this.timeout(120_000);
  let nginx: Nginx;
  let sonde: SondeProcess | undefined;

  before(async function () {
    ensureEbpfBuild();
    nginx = await startNginx();
  });

  after(async function () {
    await nginx?.stop();
  });

  afterEach(async function () {
    await sonde?.stop();
    sonde = undefined;
  });

  it('ebpf_http -> batch -> file: nginx + curl, N requests -> exactly N SERVER (and N CLIENT) spans in the file', async function () {
    const N = 300;
    const dir = tempDir('sonde-http-e2e-');
    const out = path.join(dir, 'traces.jsonl');
    try {
      sonde = await startSonde(`
receivers:
  ebpf_http:
    ports: [${nginx.port}]
processors:
  batch:
    timeout: 200ms
exporters:
  file:
    path: ${out}
    flush_interval: 100ms
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces:
      receivers: [ebpf_http]
      processors: [batch]
      exporters: [file]
`, { dir, readyTimeoutMs: 60_000 });
      assert.match(sonde.stderr(), /ebpf_http attached/);
      // three curl processes, keep-alive within each; every 10th path is a 404
      const lists: string[][] = [[], [], []];
      for (let i = 0; i < N; i++) lists[i % 3]?.push('-o', '/dev/null', `http://127.0.0.1:${nginx.port}/${i % 10 === 0 ? 'missing' : 'users'}/${i}`);
      await Promise.all(lists.map((l) => curl(['-s', ...l])));
      const server = (): FileSpan[] => spansInFile(out).filter((s) => s.span.kind === SpanKind.SERVER && port(s.span) === nginx.port);
      await waitFor(() => server().length >= N, 30_000, `${N} SERVER spans in ${out}`);
      assert.equal(await sonde.stop(), 0);
      sonde = undefined;
      const sv = server();
      assert.equal(sv.length, N);
      assert.ok(sv.every((s) => s.exe === 'nginx' && sattr(s.span, 'http.request.method') === 'GET' && sattr(s.span, 'url.scheme') === 'http'));
      const statuses = sv.map((s) => Number(attr(s.span.attributes, 'http.response.status_code')?.intValue));
      assert.equal(statuses.filter((c) => c === 404).length, N / 10);
      assert.equal(statuses.filter((c) => c === 200).length, N - N / 10);
      assert.equal(spansInFile(out).filter((s) => s.span.kind === SpanKind.CLIENT && s.exe === 'curl').length, N);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('config/default.yaml as root: the host’s HTTP traffic on the console (a line per span) and in the file', async function () {
    if (process.getuid?.() !== 0) this.skip(); // the receiver needs root here; CI runs as root
    const dir = tempDir('sonde-default-root-');
    try {
      // only nginx's port, so other traffic on this machine does not crowd the output
      const o = await defaultConfigOverrides(dir, `receivers:\n  ebpf_http: { ports: [${nginx.port}] }\n`);
      sonde = await runSonde([path.join(ROOT, 'config', 'default.yaml'), o.file], o.env, false, dir);
      assert.match(sonde.stderr(), /ebpf_http attached/);
      await curl(['-s', '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/ok`, '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/users/42`]);
      const file = o.env['SONDE_OUTPUT_FILE'] as string;
      const mine = (): FileSpan[] => spansInFile(file).filter((s) => port(s.span) === nginx.port);
      await waitFor(() => mine().length >= 4 && /span "GET \/users\/\{id\}".*kind=Server/.test(sonde?.stdout() ?? ''), 30_000, 'spans on the console and in the file');
      assert.match(sonde.stdout(), /span "GET \/ok" trace_id=[0-9a-f]{32} span_id=[0-9a-f]{16} kind=Server/);
      assert.match(sonde.stdout(), /span "GET \/users\/\{id\}" .*kind=Client/);
      assert.deepEqual(mine().map((s) => `${s.exe} ${sattr(s.span, 'url.path') ?? ''}`).sort(), ['curl /ok', 'curl /users/42', 'nginx /ok', 'nginx /users/42']);
      assert.equal(await sonde.stop('SIGINT'), 0);
      sonde = undefined;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('config/default.yaml without privileges (uid 65534): one line saying what is missing and how to run it; OTLP still served', async function () {
    if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/setpriv')) this.skip(); // needs root to drop privileges
    const dir = tempDir('sonde-default-nobody-');
    fs.chmodSync(dir, 0o777); // the unprivileged user writes its output file here
    try {
      const o = await defaultConfigOverrides(dir);
      fs.chmodSync(o.file, 0o644);
      sonde = await runSonde([path.join(ROOT, 'config', 'default.yaml'), o.file], o.env, true, dir);
      const err = sonde.stderr();
      const lines = err.split('\n').filter((l) => /ebpf_http/.test(l));
      assert.equal(lines.length, 1, err);
      const line = lines[0] as string;
      assert.match(line, /"level":"warn"/);
      assert.match(line, /ebpf_http is not running: cannot load its eBPF programs \(pid \d+\): needs CAP_BPF and CAP_PERFMON/);
      assert.match(line, /uid 65534/);
      assert.match(line, /run as root/);
      assert.ok(!/^\s+at /m.test(err), `no stack trace:\n${err}`);
      // the OTLP part works: a trace posted over OTLP/HTTP reaches the file
      const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans: [{
        traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'from-otlp', kind: 2,
        startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000' }] }] }] });
      const res = await fetch(`http://127.0.0.1:${o.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200, await res.text());
      const file = o.env['SONDE_OUTPUT_FILE'] as string;
      await waitFor(() => spansInFile(file).some((s) => s.span.name === 'from-otlp'), 30_000, 'the OTLP span in the file');
      assert.equal(await sonde.stop('SIGINT'), 0);
      sonde = undefined;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
