// Failures come back as clear JS errors naming the probe, never a crash: missing BTF, an unknown
// symbol, a missing binary, an unknown tracepoint, a verifier refusal, and a non-root process.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BpfError, BpfObject, bpfObjectPath, VerifierError } from '../../native/index';
import { buildC, ensureEbpfBuild, LATENCY_C, ROOT } from '../helpers/ebpf';

describe('eBPF errors', function () {
  let bin = '';
  const open: BpfObject[] = [];

  before(function () {
    ensureEbpfBuild();
    bin = buildC('latency', LATENCY_C);
  });

  afterEach(function () {
    for (const o of open.splice(0)) o.close();
  });

  function loaded(name: string): BpfObject {
    const o = BpfObject.open(name);
    open.push(o);
    return o.load();
  }

  it('missing BTF: load fails naming the object, the program and the BTF problem', function () {
    const o = BpfObject.open('syscall_write', { btfCustomPath: '/nonexistent/vmlinux.btf' });
    open.push(o);
    o.keepOnly('tracepoint__syscalls__sys_enter_write');
    assert.throws(
      () => o.load(),
      (e: unknown) => {
        assert.ok(e instanceof BpfError, String(e));
        assert.equal(e.op, 'load');
        assert.equal(e.code, 'ENOENT');
        assert.match(e.message, /^load syscall_write/);
        assert.match(e.message, /No such file or directory/);
        assert.match(e.message, /BTF/);
        assert.match(e.message, /programs tracepoint__syscalls__sys_enter_write/);
        assert.match(e.message, /target BTF: \/nonexistent\/vmlinux\.btf$/);
        return true;
      },
    );
    // a failed object refuses a second load with a clear message instead of crashing
    assert.throws(() => o.load(), /failed to load; open it again/);
  });

  it('unknown symbol: attach fails naming the program, binary and symbol', function () {
    const o = loaded('uprobe_latency');
    assert.throws(
      () => o.attachUprobe('uprobe__func_entry', { binary: bin, symbol: 'sonde_no_such_function' }),
      (e: unknown) => {
        assert.ok(e instanceof BpfError, String(e));
        assert.equal(e.program, 'uprobe__func_entry');
        assert.equal(e.attachPoint, `${bin}:sonde_no_such_function`);
        assert.match(e.message, /^attach uprobe uprobe__func_entry at .*:sonde_no_such_function: No such file or directory/);
        assert.match(e.message, /sonde_no_such_function/);
        return true;
      },
    );
  });

  it('missing binary: attach fails saying the binary is not there', function () {
    const o = loaded('uprobe_latency');
    assert.throws(
      () => o.attachUprobe('uretprobe__func_return', { binary: '/nonexistent/bin/app', symbol: 'main', retprobe: true }),
      (e: unknown) =>
        e instanceof BpfError &&
        e.code === 'ENOENT' &&
        /^attach uretprobe uretprobe__func_return at \/nonexistent\/bin\/app:main: No such file or directory \(libbpf: binary not found: \/nonexistent\/bin\/app\)$/.test(e.message),
    );
  });

  it('unknown tracepoint, unknown program, closed object: clear errors', function () {
    const o = loaded('syscall_write');
    assert.throws(
      () => o.attachTracepoint('tracepoint__syscalls__sys_enter_write', 'syscalls', 'sys_enter_nosuch'),
      /attach tracepoint tracepoint__syscalls__sys_enter_write at syscalls\/sys_enter_nosuch: No such file or directory/,
    );
    assert.throws(() => o.attach('nope'), /no program nope in .*syscall_write\.bpf\.o \(it has: tracepoint__syscalls__sys_enter_write, raw_tracepoint__sys_enter\)/);
    assert.throws(() => new BpfObject('/nonexistent/x.bpf.o'), /^BpfError: open \/nonexistent\/x\.bpf\.o: No such file or directory|open \/nonexistent\/x\.bpf\.o: No such file or directory/);
    o.close();
    o.close();
    assert.throws(() => o.attach('raw_tracepoint__sys_enter'), /is closed/);
  });

  it('verifier refusal: a VerifierError carrying the verifier log', function () {
    const o = BpfObject.open('test_verifier_reject');
    open.push(o);
    assert.throws(
      () => o.load(),
      (e: unknown) => {
        assert.ok(e instanceof VerifierError, String(e));
        assert.equal(e.program, 'tracepoint__syscalls__sys_enter_getppid');
        assert.match(e.message, /program tracepoint__syscalls__sys_enter_getppid/);
        assert.match(e.verifierLog, /invalid mem access 'map_value_or_null'/);
        return true;
      },
    );
  });

  it('non-root: a clear permission error naming what is missing', function () {
    // the same load, in a child running as nobody (no capabilities)
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-nonroot-')), 'load.js');
    fs.writeFileSync(
      script,
      `const { BpfObject } = require(${JSON.stringify(path.join(ROOT, 'native', 'index.ts'))});
try {
  const o = new BpfObject(${JSON.stringify(bpfObjectPath('syscall_write'))});
  o.load();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message }));
}
`,
    );
    fs.chmodSync(path.dirname(script), 0o755);
    fs.chmodSync(script, 0o644);
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '--require', 'tsx/cjs', script],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; name?: string; code?: string; message?: string };
    assert.equal(out.ok, false, 'nobody must not load BPF programs');
    assert.equal(out.name, 'BpfError');
    assert.equal(out.code, 'EPERM');
    assert.match(out.message ?? '', /^load syscall_write.*Operation not permitted/);
    assert.match(out.message ?? '', /needs CAP_BPF and CAP_PERFMON \(or CAP_SYS_ADMIN\); this process \(uid 65534\) lacks CAP_BPF, CAP_PERFMON/);
  });
});
