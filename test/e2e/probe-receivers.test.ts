// `sonde run` with the generic probe receivers, as a user runs it: a YAML file, a tracepoint
// receiver -> file exporter, a child that writes N times; the file ends up with N for its pid.
// And a receiver this kernel cannot run makes `sonde run` exit 1 naming it and the reason.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

import { probeFeatures } from '../../native/features';
import { codecs } from '../../pipeline/otlp/codec';
import type { AnyValue, KeyValue, MetricsData } from '../../pipeline/pdata';
import { buildC, ensureEbpfBuild, spawnGated, WRITER_C } from '../helpers/ebpf';
import { completeLines, startSonde, tempDir, waitFor, type SondeProcess } from '../helpers/sonde-process';

const attr = (attrs: KeyValue[] | undefined, key: string): AnyValue | undefined => attrs?.find((a) => a.key === key)?.value;

/** The call count of `pid` in the last line of the file exporter's output that has one. */
function countInFile(file: string, pid: number): number | undefined {
  let v: number | undefined;
  for (const line of completeLines(file)) {
    const data: MetricsData = codecs.metrics.decodeRequestJson(line);
    for (const rm of data.resourceMetrics) {
      if (Number(attr(rm.resource?.attributes, 'process.pid')?.intValue ?? -1) !== pid) continue;
      const m = rm.scopeMetrics.flatMap((s) => s.metrics).find((x) => x.name === 'sonde.tracepoint.calls');
      const p = m?.sum?.dataPoints[0];
      if (p) v = Number(p.asInt);
    }
  }
  return v;
}

describe('e2e: sonde run with the generic probe receivers', function () {
  this.timeout(60_000);
  let writer = '';
  let sonde: SondeProcess | undefined;

  before(function () {
    ensureEbpfBuild();
    writer = buildC('writer', WRITER_C);
  });

  afterEach(async function () {
    await sonde?.stop();
    sonde = undefined;
  });

  it('tracepoint receiver -> file exporter: the file holds the child’s N writes for its pid', async function () {
    const N = 777;
    const dir = tempDir('sonde-probe-e2e-');
    const out = path.join(dir, 'metrics.jsonl');
    const child = await spawnGated(writer, [String(N)]);
    try {
      const yaml = `
receivers:
  tracepoint/writes:
    tracepoint: syscalls/sys_enter_write
    collection_interval: 300ms
    filter:
      pids: [${child.pid}]
exporters:
  file:
    path: ${out}
    flush_interval: 100ms
service:
  pipelines:
    metrics:
      receivers: [tracepoint/writes]
      exporters: [file]
`;
      sonde = await startSonde(yaml, { dir });
      assert.match(sonde.stderr(), /probe attached.*"attach":"tracepoint"/);
      child.go();
      assert.equal((await child.done).code, 0);
      await waitFor(() => countInFile(out, child.pid) === N, 10_000, `count ${N} for pid ${child.pid} in ${out}`);
      assert.equal(await sonde.stop(), 0);
      assert.equal(countInFile(out, child.pid), N);
    } finally {
      child.kill();
    }
  });

  it('a kprobe receiver this kernel cannot run: exit 1 naming the receiver and the reason', async function () {
    const report = await probeFeatures();
    if (report.attach.kprobe.supported) {
      console.log('      skip: this kernel has kprobes; nothing to refuse');
      this.skip();
    }
    const dir = tempDir('sonde-probe-e2e-');
    const yaml = `
receivers:
  kprobe/vfs:
    function: vfs_write
    attach: [kprobe]
exporters:
  file:
    path: ${path.join(dir, 'never.jsonl')}
service:
  pipelines:
    metrics:
      receivers: [kprobe/vfs]
      exporters: [file]
`;
    await assert.rejects(startSonde(yaml, { dir, readyTimeoutMs: 15_000 }), (e: Error) => {
      assert.match(e.message, /exited with 1/);
      assert.match(e.message, /kprobe\/vfs: kernel function vfs_write \(attach: kprobe\): no attach option works here: kprobe: not available here: the kernel is built without kprobes/);
      return true;
    });
  });
});
