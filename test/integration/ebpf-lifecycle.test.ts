// Everything attached is released on close() and when the process dies: links and programs are
// fds, nothing is pinned, so the kernel frees them once the last fd is gone.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { BpfObject } from '../../native/index';
import { buildC, ensureEbpfBuild, ROOT, spawnGated, WRITER_C } from '../helpers/ebpf';
import { requireBuild, tempDir } from '../helpers/sonde-process';

const TP = 'tracepoint__syscalls__sys_enter_write';

function progExists(id: number): boolean {
  return spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { encoding: 'utf8' }).status === 0;
}

async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

describe('eBPF lifecycle: detach on close and on process death', function () {
  let writer = '';

  before(function () {
    ensureEbpfBuild();
    writer = buildC('writer', WRITER_C);
  });

  it('Link.close() stops the program seeing events; BpfObject.close() frees it', async function () {
    const obj = BpfObject.open('syscall_write');
    try {
      // every process but this one (load() fills in sonde_self_tgid: Sonde never observes itself)
      obj.keepOnly(TP).setGlobalBool('emit_events', false).setGlobalU32('target_tgid', 0).load();
      const link = obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      const id = obj.programInfo(TP).id;
      assert.ok(progExists(id));
      const runWriter = async (): Promise<void> => {
        const w = await spawnGated(writer, ['100']);
        w.go();
        await w.done;
      };
      await runWriter();
      const attached = obj.readU64('write_calls', 0);
      assert.ok(attached >= 100n, `${attached} writes seen while attached`);
      link.close();
      link.close();
      assert.equal(link.closed, true);
      const detached = obj.readU64('write_calls', 0);
      await runWriter();
      assert.equal(obj.readU64('write_calls', 0), detached, 'nothing counted after detach');
      obj.close();
      assert.ok(await eventually(() => !progExists(id)), `program ${id} still loaded after close`);
    } finally {
      obj.close();
    }
  });

  it('a SIGKILLed process leaves nothing attached', async function () {
    const script = `
const { BpfObject } = require(${JSON.stringify(path.join(ROOT, 'native', 'index.ts'))});
const o = BpfObject.open('syscall_write');
o.keepOnly('${TP}').load();
o.attachTracepoint('${TP}', 'syscalls', 'sys_enter_write');
o.openRingBuffer('events', () => {});
console.log(o.programInfo('${TP}').id);
setInterval(() => {}, 1000);
`;
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const id = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
      child.once('exit', (code) => reject(new Error(`child exited ${String(code)} before attaching`)));
    });
    assert.ok(id > 0 && progExists(id), `program ${id} loaded by the child`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.ok(await eventually(() => !progExists(id)), `program ${id} survived its process`);
  });

  it('loads while a CPU profiler signals the process every 100 us (node --cpu-prof): SIGPROF waits for the verifier', function () {
    this.timeout(60_000);
    // the verifier gives up on a pending signal; a large object takes long enough to be hit
    const script = `
      const { BpfObject } = require(${JSON.stringify(path.join(ROOT, 'dist/native/index.js'))});
      const o = BpfObject.open('http_capture');
      for (const p of o.programs()) if (!p.name.startsWith('tracepoint__')) o.setAutoload(p.name, false);
      o.load();
      o.close();
      console.log('loaded');`;
    requireBuild();
    const profiles = tempDir();
    try {
      for (let i = 0; i < 3; i++) {
        const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profiles, '--cpu-prof-interval', '100', '-e', script], { encoding: 'utf8' });
        assert.equal(r.stdout.trim(), 'loaded', r.stderr);
      }
    } finally {
      fs.rmSync(profiles, { recursive: true, force: true });
    }
  });
});
