// The ebpf_http receiver against real peers on loopback: Debian's nginx (test/helpers/nginx.ts)
// driven by curl and by a Node keep-alive client, Node servers for chunked and broken responses,
// a raw socket for pipelining. Every peer is a child process: Sonde never observes itself.
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

import { probeFeatures, type FeatureReport } from '../../native/features';
import { BpfObject, bpfObjectPath } from '../../native/index';
import { readConfig } from '../../pipeline/config/schema';
import type { Logger, LogFields } from '../../pipeline/logger';
import { idToHex, SpanKind, StatusCode, type AnyValue, type KeyValue, type Span, type TracesData } from '../../pipeline/pdata';
import { ebpfHttpReceiverFactory } from '../../receivers/ebpf_http';
import { EbpfHttpReceiver, missingSockTracepoints, tcpRecvmsgFlagsArg } from '../../receivers/ebpf_http/receiver';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import { ensureEbpfBuild } from '../helpers/ebpf';
import { startNginx, type Nginx } from '../helpers/nginx';
import { freePort } from '../helpers/sonde-process';

// ---- harness ---------------------------------------------------------------------------------


/** Keeps every log line, to prove secrets never reach one. */
class RecordingLogger implements Logger {
  constructor(readonly lines: string[] = []) {}
  private add(level: string, msg: string, f?: LogFields): void { this.lines.push(JSON.stringify({ level, msg, ...f })); }
  debug(m: string, f?: LogFields): void { this.add('debug', m, f); }
  info(m: string, f?: LogFields): void { this.add('info', m, f); }
  warn(m: string, f?: LogFields): void { this.add('warn', m, f); }
  error(m: string, f?: LogFields): void { this.add('error', m, f); }
  with(): Logger { return this; }
}

const host = testHost;

interface CapturedSpan {
  pid: number;
  exe: string;
  resource: KeyValue[];
  span: Span;
}

interface Harness {
  receiver: EbpfHttpReceiver;
  spans: CapturedSpan[];
  telemetry: RecordingTelemetry;
  logger: RecordingLogger;
}

async function startReceiver(raw: Record<string, unknown>): Promise<Harness> {
  const { value, issues } = readConfig(ebpfHttpReceiverFactory.config, raw);
  const errors = [...issues, ...(ebpfHttpReceiverFactory.validate?.(value) ?? [])].filter((i) => i.severity === 'error');
  assert.deepEqual(errors, []);
  const telemetry = new RecordingTelemetry();
  const logger = new RecordingLogger();
  const settings = testSettings(telemetry, 'ebpf_http', 'receiver', logger);
  const spans: CapturedSpan[] = [];
  const consume = async (d: TracesData): Promise<void> => {
    for (const rs of d.resourceSpans) {
      const pid = Number(attr(rs.resource?.attributes, 'process.pid')?.intValue);
      const exe = attr(rs.resource?.attributes, 'process.executable.name')?.stringValue ?? '';
      const resource = rs.resource?.attributes ?? [];
      for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ pid, exe, resource, span });
    }
  };
  const r = ebpfHttpReceiverFactory.create(settings, value, { traces: { consume } });
  assert.ok(r instanceof EbpfHttpReceiver);
  await r.start(host);
  return { receiver: r, spans, telemetry, logger };
}

const attr = (attrs: KeyValue[] | undefined, key: string): AnyValue | undefined => attrs?.find((a) => a.key === key)?.value;
const sattr = (s: Span, key: string): string | undefined => attr(s.attributes, key)?.stringValue;
const iattr = (s: Span, key: string): number | undefined => {
  const v = attr(s.attributes, key)?.intValue;
  return v === undefined ? undefined : Number(v);
};

/** Waits (bounded) until `cond` holds over the spans delivered so far; never asserts time. */
async function until(h: Harness, cond: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    await h.receiver.flush();
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await h.receiver.flush();
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, encoding: 'latin1' }, (err, out, stderr) => (err ? reject(new Error(`${cmd}: ${err.message} ${stderr}`)) : resolve(out)));
  });
}

/** A node child running `src`; resolves once it printed "READY <port>". */
async function nodeChild(src: string, args: string[] = []): Promise<{ child: ChildProcess; port: number; out: Promise<string> }> {
  const child = spawn(process.execPath, ['-e', src, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  const out = new Promise<string>((resolve) => child.once('close', () => resolve(buf)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /READY (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`node child exited ${String(c)}: ${buf}`)));
  });
  return { child, port, out };
}

/** A python3 server printing `READY <port>` once it listens (stopped by the test's afterEach). */
async function pythonServer(src: string, children: ChildProcess[]): Promise<number> {
  const py = spawn('python3', ['-c', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(py);
  return new Promise<number>((resolve, reject) => {
    let buf = '';
    py.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /READY (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    py.once('exit', (c) => reject(new Error(`python3 exited ${String(c)}: ${buf}`)));
  });
}

function kill(c: ChildProcess | undefined): void {
  if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

const duration = (s: Span): number => Number(BigInt(s.endTimeUnixNano?.toString() ?? '0') - BigInt(s.startTimeUnixNano?.toString() ?? '0'));

// ---- tests -----------------------------------------------------------------------------------

// Every test runs on the data path auto picks here (the sock tracepoints on this kernel) and on the
// syscall tracepoints, the path of kernels without them.
for (const path of ['auto', 'tracepoint'] as const) describe(`ebpf_http receiver (real nginx, curl, Node peers; attach: ${path})`, function () {
  this.timeout(120_000);
  let nginx: Nginx;
  const running: Harness[] = [];
  const children: ChildProcess[] = [];

  before(async function () {
    ensureEbpfBuild();
    nginx = await startNginx();
  });

  after(async function () {
    await nginx?.stop();
  });

  afterEach(async function () {
    for (const h of running.splice(0)) await h.receiver.shutdown();
    for (const c of children.splice(0)) kill(c);
  });

  const python = (src: string): Promise<number> => pythonServer(src, children);

  async function receiver(raw: Record<string, unknown>): Promise<Harness> {
    const h = await startReceiver(path === 'auto' || 'attach' in raw ? raw : { ...raw, attach: path });
    running.push(h);
    return h;
  }

  it('nginx + 10 curl processes x 100 keep-alive URLs: exactly 1 000 SERVER and 1 000 CLIENT spans, right method/path/status', async function () {
    const h = await receiver({ ports: [nginx.port] });
    const expected = new Map<string, number>(); // "path status" -> count
    const urls: string[][] = [];
    for (let p = 0; p < 10; p++) {
      const list: string[] = [];
      for (let i = 0; i < 100; i++) {
        const n = p * 100 + i;
        // mostly 200s; every 10th a 404, every 25th a 500 (nginx closes after a 500: new connections)
        const [path, status] = n % 25 === 0 ? [`/error/${n}`, 500] : n % 10 === 0 ? [`/missing/${n}`, 404] : [`/users/${n}`, 200];
        list.push(`http://127.0.0.1:${nginx.port}${path}`);
        expected.set(`${path} ${status}`, (expected.get(`${path} ${status}`) ?? 0) + 1);
      }
      urls.push(list);
    }
    const outs = await Promise.all(urls.map((list) => run('curl', ['-s', '-w', '%{http_code}\n', ...list.flatMap((u) => ['-o', '/dev/null', u])])));
    assert.equal(outs.join('').trim().split('\n').length, 1000, 'curl made 1 000 requests');
    const server = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER && iattr(s.span, 'server.port') === nginx.port);
    const client = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.CLIENT && s.exe === 'curl');
    await until(h, () => server().length >= 1000 && client().length >= 1000);

    const sv = server();
    assert.equal(sv.length, 1000, `SERVER spans: ${sv.length}; counts ${JSON.stringify(h.telemetry.summary())}`);
    assert.ok(sv.every((s) => s.exe === 'nginx'), 'server spans come from nginx');
    const got = new Map<string, number>();
    for (const { span } of sv) {
      assert.equal(sattr(span, 'http.request.method'), 'GET');
      assert.ok(duration(span) > 0, 'positive duration');
      const status = iattr(span, 'http.response.status_code') as number;
      const k = `${sattr(span, 'url.path') ?? ''} ${status}`;
      got.set(k, (got.get(k) ?? 0) + 1);
      assert.equal(span.status?.code, status >= 500 ? StatusCode.ERROR : StatusCode.UNSET);
      assert.equal(sattr(span, 'client.address'), '127.0.0.1');
      assert.ok(/^GET \/(users|missing|error)\/\{id\}$/.test(span.name ?? ''), span.name);
      assert.ok(sattr(span, 'user_agent.original')?.startsWith('curl/'));
    }
    assert.deepEqual([...got].sort(), [...expected].sort(), 'each request seen once, with its path and status');

    const cl = client();
    assert.equal(cl.length, 1000, `CLIENT spans from curl: ${cl.length}`);
    const cgot = new Map<string, number>();
    for (const { span } of cl) {
      const status = iattr(span, 'http.response.status_code') as number;
      const k = `${sattr(span, 'url.path') ?? ''} ${status}`;
      cgot.set(k, (cgot.get(k) ?? 0) + 1);
      assert.ok(duration(span) > 0);
      assert.equal(span.status?.code, status >= 400 ? StatusCode.ERROR : StatusCode.UNSET, 'client: 4xx and 5xx are errors');
      assert.equal(iattr(span, 'server.port'), nginx.port);
    }
    assert.deepEqual([...cgot].sort(), [...expected].sort());
    assert.equal(h.telemetry.countOf('http_dropped', { reason: 'ring_buffer_full' }), 0);
  });

  it('a Node http.Agent keep-alive client making 1 000 requests: 1 000 CLIENT spans', async function () {
    const h = await receiver({ ports: [nginx.port] });
    const src = `
      const http = require('http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const port = Number(process.argv[1]);
      let done = 0, started = 0;
      function one() {
        if (started >= 1000) return;
        const n = started++;
        http.get({ host: '127.0.0.1', port, path: '/users/' + n, agent }, (res) => {
          res.resume();
          res.on('end', () => { if (++done === 1000) { agent.destroy(); console.log('READY 0'); } else one(); });
        }).on('error', (e) => { console.error(e); process.exit(1); });
      }
      for (let i = 0; i < 4; i++) one();
    `;
    const c = await nodeChild(src, [String(nginx.port)]);
    children.push(c.child);
    await c.out;
    const pid = c.child.pid as number;
    const mine = (): CapturedSpan[] => h.spans.filter((s) => s.pid === pid);
    await until(h, () => mine().length >= 1000);
    const spans = mine();
    assert.equal(spans.length, 1000);
    assert.ok(spans.every((s) => s.span.kind === SpanKind.CLIENT && iattr(s.span, 'http.response.status_code') === 200));
    assert.deepEqual(spans.map((s) => sattr(s.span, 'url.path')).sort(), Array.from({ length: 1000 }, (_, i) => `/users/${i}`).sort());
    assert.ok(spans.every((s) => s.span.name === 'GET /users/{id}' && duration(s.span) > 0));
  });

  it('a request carrying traceparent: the SERVER span joins that trace', async function () {
    const h = await receiver({ ports: [nginx.port] });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await run('curl', ['-s', '-o', '/dev/null', '-H', `traceparent: 00-${traceId}-${parent}-01`, `http://127.0.0.1:${nginx.port}/ok`]);
    const server = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER);
    await until(h, () => server().length >= 1);
    assert.equal(server().length, 1);
    const span = (server()[0] as CapturedSpan).span;
    assert.equal(idToHex(span.traceId), traceId);
    assert.equal(idToHex(span.parentSpanId), parent);
    // the client span starts a new trace (joining is a processor's job)
    const cl = h.spans.find((s) => s.span.kind === SpanKind.CLIENT);
    assert.ok(cl);
    assert.notEqual(idToHex(cl.span.traceId), traceId);
  });

  if (path === 'auto') describe('data path (attach: auto | sock_tracepoint | fentry | kprobe | tracepoint)', function () {
    let report: FeatureReport;
    before(async function () {
      report = await probeFeatures();
    });

    it('auto takes the first of sock_tracepoint, fentry, kprobe, tracepoint this kernel accepts, and logs which and why not the others', async function () {
      const h = await receiver({ ports: [nginx.port] });
      const missing = missingSockTracepoints();
      const expected = missing.length === 0 ? 'sock_tracepoint' : report.attach.fentry.supported ? 'fentry' : report.attach.kprobe.supported ? 'kprobe' : 'tracepoint';
      assert.equal(h.receiver.dataPath, expected);
      const line = h.logger.lines.find((l) => l.includes('ebpf_http attached'));
      assert.ok(line);
      const logged = JSON.parse(line) as { attach: string; not_taken?: string; syscall_args?: string };
      assert.equal(logged.attach, expected);
      if (expected === 'tracepoint') {
        // bpf_task_pt_regs (5.15+): syscall arguments read at exit, no in-flight map
        const [major = 0, minor = 0] = report.kernel.release.split('.').map(Number);
        const modern = major > 5 || (major === 5 && minor >= 15);
        assert.equal(logged.syscall_args, modern ? 'exit' : 'entry');
        assert.equal(h.receiver.argsAtExit, modern);
      }
      if (expected === 'sock_tracepoint') {
        // no syscall tracepoint at all: every syscall of every process stays on the fast path
        const programs = h.receiver.attachedPrograms();
        assert.deepEqual(programs.filter((p) => p.startsWith('tracepoint__syscalls__')), [], programs.join(','));
        assert.ok(programs.includes('tp_btf__sock_recv_length') && programs.includes('tp_btf__tcp_sendmsg_locked'), programs.join(','));
      } else {
        assert.ok(logged.not_taken?.includes(`sock_tracepoint: this kernel has no tracepoint ${missing.join(', ')}`), logged.not_taken);
      }
      for (const k of ['fentry', 'kprobe'] as const) {
        if (k === expected || expected === 'sock_tracepoint') break;
        assert.ok(logged.not_taken?.includes(`${k}: ${report.attach[k].reason ?? ''}`), `${k} refused with the probe's reason: ${logged.not_taken ?? ''}`);
      }
      // whichever path it is, it traces
      await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/ok`]);
      await until(h, () => h.spans.filter((s) => s.span.kind === SpanKind.SERVER).length >= 1);
      assert.equal(h.spans.filter((s) => s.span.kind === SpanKind.SERVER).length, 1);
    });

    it('the kprobe/fentry programs pass the verifier here even when the kernel will not attach them (load only)', function () {
      // kprobe programs load without CONFIG_KPROBES (only their attach needs it); fentry programs
      // are refused at load under lockdown, so they are checked where the kernel takes them
      for (const [kind, re] of [['kprobe', /^k(ret)?probe__tcp_/], ['fentry', /^f(entry|exit)__tcp_/]] as const) {
        const obj = new BpfObject(bpfObjectPath('http_capture'));
        try {
          const mine = obj.programs().filter((p) => re.test(p.name)).map((p) => p.name);
          assert.equal(mine.length, 5, `${kind}: ${mine.join(',')}`);
          obj.keepOnly(...mine).setGlobalBool('kernel_path', true);
          if (kind === 'fentry' && !report.attach.fentry.supported) {
            assert.throws(() => obj.load());
            continue;
          }
          obj.load();
        } finally {
          obj.close();
        }
      }
    });

    it("tcp_recvmsg's flags (a peek is skipped) are its 4th argument from Linux 5.19 on, its 5th before", function () {
      assert.deepEqual(['4.19.0-27-amd64', '5.18.19', '5.19.0', '6.1.0-18-cloud-amd64', '6.18.0'].map(tcpRecvmsgFlagsArg), [5, 5, 4, 4, 4]);
    });

    it('the syscall programs of kernels before 5.15 (arguments kept from entry, receive entries attached) pass the verifier here (load only)', function () {
      const obj = new BpfObject(bpfObjectPath('http_capture'));
      try {
        const mine = obj.programs().filter((p) => /^tracepoint__syscalls__/.test(p.name)).map((p) => p.name);
        assert.ok(mine.includes('tracepoint__syscalls__sys_enter_recvfrom') && mine.includes('tracepoint__syscalls__sys_enter_recvmsg'), mine.join(','));
        obj.keepOnly(...mine).setGlobalBool('args_at_exit', false);
        obj.load();
      } finally {
        obj.close();
      }
    });

    for (const kind of ['kprobe', 'fentry'] as const) {
      it(`attach: ${kind}: nginx + curl, SERVER and CLIENT spans from tcp_sendmsg/tcp_recvmsg (skips where the kernel refuses ${kind})`, async function () {
        const a = report.attach[kind];
        if (!a.supported) {
          // forcing it fails the start with the probe's reason, and nothing stays loaded
          await assert.rejects(startReceiver({ ports: [nginx.port], attach: kind }), (e: Error) => e.message.includes(a.reason ?? '???') && e.message.includes('ebpf_http'));
          console.log(`      skip: ${kind}: ${a.reason ?? ''}`);
          this.skip();
        }
        const h = await receiver({ ports: [nginx.port], attach: kind });
        assert.equal(h.receiver.dataPath, kind);
        const urls = Array.from({ length: 50 }, (_, i) => `http://127.0.0.1:${nginx.port}/${i % 10 === 0 ? 'missing' : 'users'}/${i}`);
        await run('curl', ['-s', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
        const server = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER && s.exe === 'nginx');
        const client = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.CLIENT && s.exe === 'curl');
        await until(h, () => server().length >= 50 && client().length >= 50);
        assert.equal(server().length, 50);
        assert.equal(client().length, 50);
        assert.equal(server().filter((s) => iattr(s.span, 'http.response.status_code') === 404).length, 5);
        assert.ok(server().every((s) => sattr(s.span, 'client.address') === '127.0.0.1' && duration(s.span) > 0));
      });
    }
  });

  it('each CLIENT span encloses its SERVER span: a request starts when its first byte is handed to the kernel', async function () {
    const h = await receiver({ ports: [nginx.port] });
    const urls = Array.from({ length: 40 }, (_, i) => `http://127.0.0.1:${nginx.port}/users/${1000 + i}`);
    await run('curl', ['-s', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
    const of = (kind: SpanKind): Map<string, Span> => new Map(h.spans.filter((s) => s.span.kind === kind).map((s) => [sattr(s.span, 'url.path') ?? '', s.span]));
    await until(h, () => of(SpanKind.SERVER).size >= 40 && of(SpanKind.CLIENT).size >= 40);
    const server = of(SpanKind.SERVER);
    const client = of(SpanKind.CLIENT);
    assert.equal(server.size, 40);
    assert.equal(client.size, 40);
    const ns = (v: Span['startTimeUnixNano']): bigint => BigInt(v?.toString() ?? '0');
    for (const [path, sv] of server) {
      const cl = client.get(path);
      assert.ok(cl, path);
      // curl's send starts before nginx's read returns; nginx's last send starts before curl's read returns
      assert.ok(ns(cl.startTimeUnixNano) <= ns(sv.startTimeUnixNano), `${path}: client starts first`);
      assert.ok(ns(cl.endTimeUnixNano) >= ns(sv.endTimeUnixNano), `${path}: client ends last`);
    }
  });

  it('process.command_line on the resource only when resource_attributes enables it', async function () {
    const on = await receiver({ ports: [nginx.port], resource_attributes: { 'process.command_line': { enabled: true } } });
    const off = await receiver({ ports: [nginx.port] });
    const url = `http://127.0.0.1:${nginx.port}/ok?cmdline-test`;
    // two requests half a second apart: /proc/<pid>/cmdline is read while curl still runs (a
    // process gone before its first span is built has none)
    const args = ['-s', '--rate', '2/s', '-A', 'cmdline test agent', '-o', '/dev/null', url, '-o', '/dev/null', url];
    await run('curl', args);
    for (const h of [on, off]) await until(h, () => h.spans.filter((s) => s.span.kind === SpanKind.CLIENT).length >= 2);
    const client = (h: Harness): CapturedSpan => {
      const c = h.spans.filter((s) => s.span.kind === SpanKind.CLIENT && s.exe === 'curl');
      assert.equal(c.length, 2);
      return c[0] as CapturedSpan;
    };
    // arguments joined by spaces (an argument's own spaces kept)
    assert.equal(attr(client(on).resource, 'process.command_line')?.stringValue, `curl ${args.join(' ')}`);
    assert.equal(attr(client(off).resource, 'process.command_line'), undefined);
    // the server side too: nginx's worker shows the title it gives itself
    await until(on, () => on.spans.some((s) => s.span.kind === SpanKind.SERVER));
    const sv = on.spans.find((s) => s.span.kind === SpanKind.SERVER);
    assert.match(attr(sv?.resource, 'process.command_line')?.stringValue ?? '', /^nginx: worker process/);
    assert.ok(off.spans.every((s) => attr(s.resource, 'process.command_line') === undefined));
  });

  it('executables: only matching programs are traced; a process ruled out is judged again when it execs', async function () {
    const h = await receiver({ ports: [nginx.port], executables: ['curl'] });
    // bash asks over /dev/tcp: ruled out (nginx too), its pid is then skipped in the kernel; a
    // second later the same pid becomes curl, which is listed
    const script = [
      `exec 3<>/dev/tcp/127.0.0.1/${nginx.port}`,
      `printf 'GET /by-bash/1 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' >&3`,
      'while read -r -u 3 line; do :; done',
      'exec 3<&-',
      'sleep 1',
      `exec curl -s -o /dev/null http://127.0.0.1:${nginx.port}/by-curl/2`,
    ].join('; ');
    const pid = await new Promise<number>((resolve, reject) => {
      const c = execFile('bash', ['-c', script], (err) => (err ? reject(err) : resolve(c.pid as number)));
    });
    const byCurl = (): CapturedSpan[] => h.spans.filter((s) => sattr(s.span, 'url.path') === '/by-curl/2');
    await until(h, () => byCurl().length > 0);
    await new Promise((r) => setTimeout(r, 300));
    await h.receiver.flush();
    const spans = byCurl();
    assert.equal(spans.length, 1, `spans of curl: ${JSON.stringify(h.spans.map((s) => [s.exe, s.span.kind, sattr(s.span, 'url.path')]))} ${JSON.stringify(h.telemetry.summary())}`);
    const [curl] = spans as [CapturedSpan];
    assert.equal(curl.span.kind, SpanKind.CLIENT);
    assert.equal(curl.exe, 'curl');
    assert.equal(curl.pid, pid, 'the pid bash had');
    assert.deepEqual(h.spans.filter((s) => s !== curl).map((s) => [s.exe, sattr(s.span, 'url.path')]), [], 'nothing from bash or nginx');
  });

  it('privacy: Authorization and Cookie values reach no span and no log; query secrets redacted when opted in', async function () {
    const h = await receiver({ ports: [nginx.port], capture_query: true });
    await run('curl', ['-s', '-o', '/dev/null', '-H', 'Authorization: Bearer SEKRET-AUTH-9431', '-H', 'Cookie: session=SEKRET-COOKIE-7719',
      `http://127.0.0.1:${nginx.port}/users/7?page=2&token=SEKRET-TOKEN-1&api_key=SEKRET-KEY-2`]);
    await until(h, () => h.spans.length >= 2);
    assert.equal(h.spans.length, 2);
    const text = JSON.stringify(h.spans.map((s) => s.span)) + h.logger.lines.join('\n');
    for (const secret of ['SEKRET-AUTH', 'SEKRET-COOKIE', 'SEKRET-TOKEN', 'SEKRET-KEY', 'Bearer', 'session=']) assert.ok(!text.includes(secret), `${secret} leaked`);
    for (const { span } of h.spans) assert.equal(sattr(span, 'url.query'), 'page=2&token=REDACTED&api_key=REDACTED');

    // off by default: no url.query at all
    const h2 = await receiver({ ports: [nginx.port] });
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/users/8?page=3`]);
    await until(h2, () => h2.spans.length >= 2);
    assert.ok(h2.spans.every((s) => sattr(s.span, 'url.query') === undefined && sattr(s.span, 'url.path') === '/users/8'));
  });

  const PIPELINE_C = `
      const net = require('net');
      const s = net.connect(Number(process.argv[1]), '127.0.0.1', () => {
        let req = '';
        for (const p of ['/users/1', '/missing/2', '/users/3', '/ok', '/users/5']) req += 'GET ' + p + ' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n';
        s.write(req);
      });
      let got = '';
      s.on('data', (d) => { got += d; if ((got.match(/HTTP\\/1\\.1 /g) || []).length === 5) { s.end(); console.log('READY 0'); } });
    `;
  const PIPELINED = [['/users/1', 200], ['/missing/2', 404], ['/users/3', 200], ['/ok', 200], ['/users/5', 200]];

  async function pipeline(h: Harness): Promise<{ server: Span[]; client: Span[] }> {
    const c = await nodeChild(PIPELINE_C, [String(nginx.port)]);
    children.push(c.child);
    await c.out;
    const server = (): Span[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER).map((s) => s.span);
    const client = (): Span[] => h.spans.filter((s) => s.pid === c.child.pid).map((s) => s.span);
    await until(h, () => server().length >= 5 && client().length >= 5, 3000);
    return { server: server(), client: client() };
  }

  it('pipelined requests on one raw socket: paired in order when the capture holds them', async function () {
    const h = await receiver({ ports: [nginx.port], capture_bytes: 4096 });
    const { server, client } = await pipeline(h);
    for (const spans of [server, client]) {
      assert.equal(spans.length, 5);
      const seen = spans.map((s) => [sattr(s, 'url.path'), iattr(s, 'http.response.status_code')]).sort();
      assert.deepEqual(seen, [...PIPELINED].sort());
    }
  });

  it('pipelined responses beyond a small capture: fewer spans, counted, never a wrong pairing', async function () {
    const h = await receiver({ ports: [nginx.port], capture_bytes: 128 });
    const { server, client } = await pipeline(h);
    await h.receiver.shutdown();
    const want = new Map(PIPELINED.map(([p, st]) => [p, st]));
    for (const s of [...server, ...client]) assert.equal(iattr(s, 'http.response.status_code'), want.get(sattr(s, 'url.path') ?? ''), 'a span pairs a request with its own response');
    // heads cut by the capture are counted; requests hidden behind them cannot be (see tracker.ts)
    assert.ok(server.length + client.length < 10);
    assert.ok(h.telemetry.countOf('http_framing', { reason: 'head_truncated' }) > 0, JSON.stringify(h.telemetry.summary()));
  });

  it('a 5 MB chunked response from a Node server, then a second request on the same connection', async function () {
    const src = `
      const http = require('http');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const srv = http.createServer((req, res) => {
        if (req.url === '/big') {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          let left = 80; // 80 x 64 KiB = 5 MiB
          const more = () => { while (left > 0) { left--; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
          more();
        } else { res.end('small'); }
      });
      srv.keepAliveTimeout = 60000;
      srv.listen(0, '127.0.0.1', () => console.log('READY ' + srv.address().port));
    `;
    const c = await nodeChild(src);
    children.push(c.child);
    const h = await receiver({ ports: [c.port] });
    const out = await run('curl', ['-s', '-w', '%{size_download}\n', '-o', '/dev/null', `http://127.0.0.1:${c.port}/big`, '-o', '/dev/null', `http://127.0.0.1:${c.port}/after/1`]);
    assert.deepEqual(out.trim().split('\n'), ['5242880', '5']);
    const server = (): Span[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER).map((s) => s.span);
    const client = (): Span[] => h.spans.filter((s) => s.span.kind === SpanKind.CLIENT).map((s) => s.span);
    await until(h, () => server().length >= 2 && client().length >= 2);
    for (const spans of [server(), client()]) {
      assert.equal(spans.length, 2, JSON.stringify(h.telemetry.summary()));
      const byPath = new Map(spans.map((s) => [sattr(s, 'url.path'), s]));
      assert.equal(iattr(byPath.get('/big') as Span, 'http.response.status_code'), 200);
      assert.equal(iattr(byPath.get('/after/1') as Span, 'http.response.status_code'), 200);
      // the big response ends with its last byte, before the second request starts
      const big = byPath.get('/big') as Span;
      const after = byPath.get('/after/1') as Span;
      assert.ok(BigInt(big.endTimeUnixNano?.toString() ?? '0') <= BigInt(after.startTimeUnixNano?.toString() ?? '0'));
      assert.ok(duration(big) > 0);
    }
  });

  it('records lost in the kernel ring and in the reader queue: counted, and never a wrong pairing after', async function () {
    // each path's response has its own status, so a span whose status is not its path's is a
    // request paired with another request's response
    const src = `
      const http = require('http');
      const statusOf = (n) => 210 + (n % 80);
      const srv = http.createServer((req, res) => {
        const n = Number(req.url.split('/')[2]);
        res.statusCode = statusOf(n);
        res.end('x'.repeat(n % 50));
      });
      srv.keepAliveTimeout = 60000;
      srv.listen(0, '127.0.0.1', () => {
        const port = srv.address().port;
        console.log('READY ' + port);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        let next = 0, done = 0, end = Infinity;
        const one = () => {
          if (Date.now() > end) { if (++done === 4) { console.log('SENT ' + next); process.exit(0); } return; }
          const n = next++;
          http.get({ host: '127.0.0.1', port, path: '/s/' + n, agent }, (res) => { res.resume(); res.on('end', one); }).on('error', (e) => { console.error(e); process.exit(1); });
        };
        // traffic starts once the receiver is attached, and goes on for argv[1] ms
        setTimeout(() => { end = Date.now() + Number(process.argv[1]); for (let i = 0; i < 4; i++) one(); }, 1500);
      });
    `;
    const c = await nodeChild(src, ['5000']);
    children.push(c.child);
    const h = await receiver({ ports: [c.port], ring_buffer_size: 4096 });
    // JS busy for 2 s in the middle of the traffic: the reader's queue fills, then the kernel's ring
    await new Promise((r) => setTimeout(r, 2500));
    const stop = Date.now() + 2000;
    while (Date.now() < stop) { /* blocked */ }
    const sent = Number(/SENT (\d+)/.exec(await c.out)?.[1]);
    await until(h, () => false, 1500);
    const mine = h.spans.filter((s) => (sattr(s.span, 'url.path') ?? '').startsWith('/s/'));
    const wrong = mine.filter((s) => iattr(s.span, 'http.response.status_code') !== 210 + (Number((sattr(s.span, 'url.path') as string).split('/')[2]) % 80));
    const lostKernel = h.telemetry.countOf('http_dropped', { reason: 'ring_buffer_full' });
    const lostQueue = h.telemetry.countOf('http_dropped', { reason: 'reader_queue_full' });
    const info = JSON.stringify({ sent, spans: mine.length, wrong: wrong.length, lostKernel, lostQueue, counts: h.telemetry.summary() });
    assert.ok(lostKernel > 0 && lostQueue > 0, `records were lost: ${info}`);
    assert.equal(wrong.length, 0, `wrong pairings: ${info}`);
    assert.ok(h.telemetry.countOf('http_partial', { reason: 'records_lost' }) > 0, info);
    // tracking goes on after the losses: the last requests made have spans on both sides
    for (const kind of [SpanKind.SERVER, SpanKind.CLIENT]) {
      const last = Math.max(...mine.filter((s) => s.span.kind === kind).map((s) => Number((sattr(s.span, 'url.path') as string).split('/')[2])));
      assert.ok(last >= 0.9 * sent, `kind ${kind}: last traced request ${last} of ${sent}: ${info}`);
    }
  });

  it('a server that peeks (MSG_PEEK, as protocol sniffers such as Envoy do) before each read: peeked bytes are not counted twice', async function () {
    // A peek returns bytes the next read returns again. Counted twice, a whole request would be
    // seen twice, and every later response paired with the request before its own. Connections
    // peek with recv (the recvfrom syscall) or recvmsg; one of four consumes what it peeked with
    // MSG_TRUNC (the bytes are dropped, never copied to the buffer: with nothing to look at, the
    // kernel side does not take that connection for HTTP, and it gets no SERVER span).
    const src = `
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 0))
srv.listen(16)
print('READY', srv.getsockname()[1], flush=True)
def serve(c, n):
    buf = b''
    while True:
        peeked = c.recvmsg(4096, 0, socket.MSG_PEEK)[0] if n % 2 else c.recv(4096, socket.MSG_PEEK)
        if not peeked:
            break
        if n % 4 == 2:
            c.recv(len(peeked), socket.MSG_TRUNC)
            buf += peeked
        else:
            buf += c.recv(4096)
        while b'\\r\\n\\r\\n' in buf:
            head, buf = buf.split(b'\\r\\n\\r\\n', 1)
            k = int(head.split(b' ')[1].split(b'/')[2])
            c.sendall(b'HTTP/1.1 %d X\\r\\nContent-Length: 2\\r\\n\\r\\nok' % (210 + k % 80))
    c.close()
n = 0
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
    n += 1
`;
    const port = await python(src);
    const h = await receiver({ ports: [port] });
    const perConn = 20;
    const urls = (conn: number): string[] => Array.from({ length: perConn }, (_, i) => [`http://127.0.0.1:${port}/p/${conn * perConn + i}`, '-o', '/dev/null']).flat();
    await Promise.all([0, 1, 2, 3].map((conn) => run('curl', ['-s', '--max-time', '20', ...urls(conn)])));
    const total = 4 * perConn;
    const mine = (kind: SpanKind): Span[] => h.spans.filter((s) => s.span.kind === kind && (sattr(s.span, 'url.path') ?? '').startsWith('/p/')).map((s) => s.span);
    await until(h, () => mine(SpanKind.SERVER).length >= total - perConn && mine(SpanKind.CLIENT).length >= total);
    const info = JSON.stringify(h.telemetry.summary());
    for (const kind of [SpanKind.SERVER, SpanKind.CLIENT]) {
      const spans = mine(kind);
      assert.equal(spans.length, kind === SpanKind.SERVER ? total - perConn : total, `kind ${kind}: ${info}`);
      for (const s of spans) {
        const k = Number((sattr(s, 'url.path') as string).split('/')[2]);
        assert.equal(iattr(s, 'http.response.status_code'), 210 + (k % 80), `kind ${kind}: /p/${k} paired with another request's response: ${info}`);
      }
    }
    assert.equal(h.telemetry.countOf('http_unmatched'), 0, info);
  });

  it("a socket accepted by one process and served by another (Node's cluster): its start is seen, every request has its SERVER span", async function () {
    // The cluster's primary accepts and hands each connection to a worker: the worker's fd was
    // never accepted or connected there, yet no byte had crossed the socket before its first read.
    const src = `
      const cluster = require('cluster');
      const http = require('http');
      if (cluster.isPrimary) {
        let up = 0;
        for (let i = 0; i < 2; i++) cluster.fork().on('listening', (a) => { if (++up === 2) console.log('READY ' + a.port); });
      } else {
        http.createServer((req, res) => { res.statusCode = 210 + (Number(req.url.split('/')[2]) % 80); res.end('ok'); }).listen(Number(process.argv[1]), '127.0.0.1');
      }
    `;
    const port = await freePort();
    const c = await nodeChild(src, [String(port)]);
    children.push(c.child);
    const h = await receiver({ ports: [port] });
    // four keep-alive connections of three requests, and five connections of one
    const url = (k: number): string[] => [`http://127.0.0.1:${port}/c/${k}`, '-o', '/dev/null'];
    await Promise.all([0, 1, 2, 3].map((conn) => run('curl', ['-s', ...[0, 1, 2].flatMap((i) => url(conn * 3 + i))])));
    for (let k = 12; k < 17; k++) await run('curl', ['-s', ...url(k)]);
    const server = (): Span[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER && (sattr(s.span, 'url.path') ?? '').startsWith('/c/')).map((s) => s.span);
    await until(h, () => server().length >= 17);
    const info = JSON.stringify(h.telemetry.summary());
    assert.deepEqual(server().map((s) => Number((sattr(s, 'url.path') as string).split('/')[2])).sort((a, b) => a - b), Array.from({ length: 17 }, (_, k) => k), info);
    for (const s of server()) assert.equal(iattr(s, 'http.response.status_code'), 210 + Number((sattr(s, 'url.path') as string).split('/')[2]), info);
    assert.equal(h.telemetry.countOf('http_unmatched'), 0, info);
  });

  it('a keep-alive connection that carried a request before Sonde started: joined mid-stream (counted), paired once aligned', async function () {
    const src = `
      const http = require('http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = (k) => new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: Number(process.argv[1]), path: '/users/' + k, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
      get(1).then(() => {
        console.log('READY 1');
        process.stdin.once('data', async () => { for (const k of [2, 3, 4]) await get(k); console.log('DONE'); agent.destroy(); });
      });
    `;
    const child = spawn(process.execPath, ['-e', src, String(nginx.port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    const said = (what: string): Promise<void> => new Promise((resolve, reject) => {
      const check = (): void => { if (out.includes(what)) resolve(); };
      child.stdout?.on('data', (d: Buffer) => { out += d.toString(); check(); });
      child.once('exit', (code) => reject(new Error(`client exited ${String(code)}: ${out}`)));
      check();
    });
    await said('READY');
    const h = await receiver({ ports: [nginx.port] });
    child.stdin?.write('go\n');
    await said('DONE');
    const paths = (kind: SpanKind): string[] => h.spans.filter((s) => s.span.kind === kind && (sattr(s.span, 'url.path') ?? '').startsWith('/users/')).map((s) => sattr(s.span, 'url.path') as string).sort();
    await until(h, () => paths(SpanKind.SERVER).length >= 2 && paths(SpanKind.CLIENT).length >= 2 && h.telemetry.countOf('http_unmatched', { reason: 'midstream_request' }) >= 2);
    const info = JSON.stringify(h.telemetry.summary());
    for (const kind of [SpanKind.SERVER, SpanKind.CLIENT]) assert.deepEqual(paths(kind), ['/users/3', '/users/4'], `kind ${kind}: ${info}`);
    assert.equal(h.telemetry.countOf('http_unmatched', { reason: 'midstream_request' }), 2, `one request per side dropped: ${info}`);
  });

  it('nginx as a reverse proxy (SERVER and CLIENT spans in one process), re-framing a close-delimited upstream response as chunked', async function () {
    // nginx asks the upstream in HTTP/1.0; the upstream answers without a length (two writes,
    // then close); nginx sends it on chunked, its last iovec the 7 bytes CRLF "0" CRLF CRLF:
    // the end of the body is found in the syscall's last bytes, not inferred from the next request.
    const up = await nodeChild(`
      const srv = require('http').createServer((req, res) => {
        res.statusCode = 210 + (Number(req.url.split('/')[2]) % 80);
        res.write('x'.repeat(300));
        res.end('y'.repeat(300));
      });
      srv.listen(0, '127.0.0.1', () => console.log('READY ' + srv.address().port));
    `);
    children.push(up.child);
    const proxy = await startNginx({ locations: `location / { proxy_pass http://127.0.0.1:${up.port}; }` });
    try {
      const h = await receiver({ ports: [proxy.port, up.port] });
      const urls = Array.from({ length: 6 }, (_, k) => [`http://127.0.0.1:${proxy.port}/r/${k}`, '-o', '/dev/null']).flat();
      assert.equal(await run('curl', ['-s', '-w', '%{http_code} ', ...urls]), '210 211 212 213 214 215 ');
      const spans = (exe: string, kind: SpanKind): Span[] => h.spans.filter((s) => s.exe === exe && s.span.kind === kind).map((s) => s.span);
      const sides: [string, SpanKind][] = [['curl', SpanKind.CLIENT], ['nginx', SpanKind.SERVER], ['nginx', SpanKind.CLIENT], ['node', SpanKind.SERVER]];
      await until(h, () => sides.every(([exe, kind]) => spans(exe, kind).length >= 6));
      const info = JSON.stringify(h.telemetry.summary());
      for (const [exe, kind] of sides) {
        const got = spans(exe, kind).map((s) => `${sattr(s, 'url.path') ?? ''} ${iattr(s, 'http.response.status_code') ?? 0}`).sort();
        assert.deepEqual(got, Array.from({ length: 6 }, (_, k) => `/r/${k} ${210 + k}`), `${exe} kind ${kind}: ${info}`);
      }
      assert.equal(h.telemetry.countOf('http_partial'), 0, info);
      assert.equal(h.telemetry.countOf('http_framing', { reason: 'end_inferred' }), 0, info);
    } finally {
      await proxy.stop();
    }
  });

  it('a server that splices its response bodies from a file through a pipe: every SERVER span where the data path sees those bytes, else each one counted', async function () {
    // splice(2) moves the body without a read/write syscall: the sock tracepoints see it as a
    // socket message (counted, nothing to capture), the syscall tracepoints never see it
    const src = `
import os, socket, tempfile, threading
body = tempfile.NamedTemporaryFile(delete=False)
body.write(b'z' * 3000)
body.close()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 0))
srv.listen(16)
print('READY', srv.getsockname()[1], flush=True)
def serve(c):
    buf = b''
    r, w = os.pipe()
    while True:
        d = c.recv(4096)
        if not d:
            break
        buf += d
        while b'\\r\\n\\r\\n' in buf:
            head, buf = buf.split(b'\\r\\n\\r\\n', 1)
            k = int(head.split(b' ')[1].split(b'/')[2])
            c.sendall(b'HTTP/1.1 %d X\\r\\nContent-Length: 3000\\r\\n\\r\\n' % (210 + k % 80))
            fd = os.open(body.name, os.O_RDONLY)
            left = 3000
            while left:
                n = os.splice(fd, w, left)
                m = 0
                while m < n:
                    m += os.splice(r, c.fileno(), n - m)
                left -= n
            os.close(fd)
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;
    const port = await python(src);
    const h = await receiver({ ports: [port] });
    const n = 10;
    await run('curl', ['-s', '--max-time', '20', ...Array.from({ length: n }, (_, i) => [`http://127.0.0.1:${port}/s/${i}`, '-o', '/dev/null']).flat()]);
    const mine = (kind: SpanKind): Span[] => h.spans.filter((s) => s.span.kind === kind && (sattr(s.span, 'url.path') ?? '').startsWith('/s/')).map((s) => s.span);
    const sock = h.receiver.dataPath === 'sock_tracepoint';
    const info = (): string => JSON.stringify(h.telemetry.summary());
    await until(h, () => mine(SpanKind.CLIENT).length >= n && (sock ? mine(SpanKind.SERVER).length >= n : h.telemetry.countOf('http_partial') >= n));
    for (const s of [...mine(SpanKind.SERVER), ...mine(SpanKind.CLIENT)]) {
      const k = Number((sattr(s, 'url.path') as string).split('/')[2]);
      assert.equal(iattr(s, 'http.response.status_code'), 210 + k, `/s/${k} paired with another request's response: ${info()}`);
    }
    assert.equal(mine(SpanKind.CLIENT).length, n, info());
    if (sock) {
      assert.equal(mine(SpanKind.SERVER).length, n, info());
      assert.equal(h.telemetry.countOf('http_partial') + h.telemetry.countOf('http_unmatched'), 0, info());
    } else {
      // the server's responses never end where its syscalls show: no span, each request counted
      assert.equal(mine(SpanKind.SERVER).length, 0, info());
      assert.equal(h.telemetry.countOf('http_partial'), n, info());
    }
  });

  it('a connection closed mid-response: a counted partial, no span, and the next connection is fine', async function () {
    const src = `
      const net = require('net');
      const srv = net.createServer((s) => {
        s.once('data', (d) => {
          if (String(d).startsWith('GET /broken')) {
            s.write('HTTP/1.1 200 OK\\r\\nContent-Length: 100000\\r\\n\\r\\n' + 'y'.repeat(1000));
            setTimeout(() => s.destroy(), 20);
          } else {
            s.end('HTTP/1.1 204 No Content\\r\\n\\r\\n');
          }
        });
      });
      srv.listen(0, '127.0.0.1', () => console.log('READY ' + srv.address().port));
    `;
    const c = await nodeChild(src);
    children.push(c.child);
    const h = await receiver({ ports: [c.port] });
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${c.port}/broken`]).catch(() => '');
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${c.port}/fine`]);
    await until(h, () => h.spans.length >= 2 && h.telemetry.countOf('http_partial', { reason: 'closed_mid_response' }) >= 2);
    assert.deepEqual(h.spans.map((s) => `${s.span.kind} ${sattr(s.span, 'url.path') ?? ''} ${iattr(s.span, 'http.response.status_code') ?? 0}`).sort(), [
      `${SpanKind.SERVER} /fine 204`, `${SpanKind.CLIENT} /fine 204`].sort());
    assert.equal(h.telemetry.countOf('http_partial', { reason: 'closed_mid_response' }), 2, 'server and client side each count one');
  });
});
