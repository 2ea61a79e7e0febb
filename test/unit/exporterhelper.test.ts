// The exporter helper on its own: backoff bounds and retry decisions on an injected clock (no
// wall-clock assertions), queue ownership, refusal vs blocking, shutdown drain, and the
// persistent queue's files (recovery, acks, corrupt records, disk bound).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Long from 'long';
import type { ComponentTelemetry, Consumer, Host, Settings } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { PermanentError, RetryableError, isPermanent } from '../../pipeline/errors';
import { backoffDelay, ExporterHelper, queueSchema, retrySchema, withRetry, type Clock, type PushFunc, type QueueConfig, type RetryConfig } from '../../pipeline/exporterhelper';
import { PersistentQueue, scanRecords } from '../../pipeline/exporterhelper/persistent-queue';
import type { DiskBudget } from '../../pipeline/exporterhelper/storage';
import { silentLogger, type Logger, type LogFields } from '../../pipeline/logger';
import { codecs } from '../../pipeline/otlp/codec';
import type { Signal, TracesData } from '../../pipeline/pdata';
import { fileStorageExtensionFactory } from '../../extensions/file_storage';

// ---- harness ---------------------------------------------------------------------------------

/** Time moves only when someone sleeps: every delay is recorded, none is waited for. */
class FakeClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  rand = 0.5;
  now(): number { return this.t; }
  random(): number { return this.rand; }
  async sleep(ms: number, abort: AbortSignal): Promise<boolean> {
    if (abort.aborted) return false;
    this.sleeps.push(ms);
    this.t += ms;
    await Promise.resolve();
    return !abort.aborted;
  }
}

class Recorder implements ComponentTelemetry {
  readonly totals = new Map<string, number>();
  readonly gauges = new Map<string, () => number>();
  private add(key: string, n: number): void { this.totals.set(key, (this.totals.get(key) ?? 0) + n); }
  accepted(_s: Signal, n: number): void { this.add('accepted', n); }
  refused(_s: Signal, n: number): void { this.add('refused', n); }
  dropped(_s: Signal, n: number, reason: string): void { this.add(`dropped:${reason}`, n); }
  sent(_s: Signal, n: number): void { this.add('sent', n); }
  failed(_s: Signal, n: number): void { this.add('failed', n); }
  observeGauge(name: string, _d: string, read: () => number): void { this.gauges.set(name, read); }
  count(name: string, n: number): void { this.add(name, n); }
  get(key: string): number { return this.totals.get(key) ?? 0; }
}

class LogRecorder implements Logger {
  readonly lines: { level: string; msg: string; fields?: LogFields }[] = [];
  debug(msg: string, fields?: LogFields): void { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields?: LogFields): void { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields?: LogFields): void { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields?: LogFields): void { this.lines.push({ level: 'error', msg, fields }); }
  with(): Logger { return this; }
}

const retry = (over: Record<string, unknown> = {}): RetryConfig => readConfig(retrySchema, over).value;
const queue = (over: Record<string, unknown> = {}): QueueConfig => readConfig(queueSchema, over).value;

function settings(telemetry: ComponentTelemetry, logger: Logger = silentLogger, id = 'otlp/test'): Settings {
  return { id, kind: 'exporter', logger, telemetry, buildInfo: { command: 'sonde', version: 'test' } };
}

const noHost: Host = { getExtension: () => undefined, reportFatalError: () => {}, describe: () => ({ pipelines: [], components: [] }), stats: () => [] };

let spanSeq = 0;
/** `n` spans, each with a distinct span id (its sequence number). */
function spans(n: number): TracesData {
  const list = Array.from({ length: n }, () => {
    const id = Buffer.alloc(8);
    id.writeUInt32BE(++spanSeq, 4);
    return { traceId: Buffer.alloc(16, 1), spanId: id, name: 's', kind: 1, startTimeUnixNano: Long.fromNumber(1, true), endTimeUnixNano: Long.fromNumber(2, true), attributes: [], events: [], links: [] };
  });
  return { resourceSpans: [{ scopeSpans: [{ spans: list }] }] };
}

/** A push whose every call waits until the test settles it. */
class ControlledPush {
  readonly calls: { data: TracesData; resolve: () => void; reject: (e: Error) => void }[] = [];
  private waiters: (() => void)[] = [];
  readonly fn: PushFunc = (_signal, data) => new Promise<void>((resolve, reject) => {
    this.calls.push({ data: data as TracesData, resolve, reject });
    for (const w of this.waiters.splice(0)) w();
  });
  async nextCall(count: number): Promise<void> {
    while (this.calls.length < count) await new Promise<void>((r) => this.waiters.push(r));
  }
}

function consumer(h: ExporterHelper): Consumer<TracesData> {
  return h.consumers.traces as Consumer<TracesData>;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

// ---- retry -----------------------------------------------------------------------------------

describe('exporterhelper: retry_on_failure', () => {
  it('backoff grows by multiplier from initial_interval, capped at max_interval, jitter within randomization_factor', () => {
    const cfg = retry({ initial_interval: '1s', multiplier: 2, max_interval: '5s', randomization_factor: 0.5 });
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffDelay(cfg, n, 0.5)), [1000, 2000, 4000, 5000, 5000]);
    assert.equal(backoffDelay(cfg, 1, 0), 1000, 'lowest: interval * (1 - factor)');
    assert.equal(backoffDelay(cfg, 1, 0.999999) < 3000, true, 'highest: below interval * (1 + factor)');
    assert.equal(backoffDelay(retry({ randomization_factor: 0 }), 0, 0.9), 5000, 'Collector default initial_interval 5s');
  });

  it('retries retryable failures with growing delays until success', async () => {
    const clock = new FakeClock();
    let n = 0;
    const out = await withRetry(retry({ initial_interval: '100ms', multiplier: 2, max_interval: '1s' }), async () => {
      if (++n < 6) throw new RetryableError('down');
      return 'ok';
    }, new AbortController().signal, clock);
    assert.deepEqual(out, { ok: true, value: 'ok' });
    assert.deepEqual(clock.sleeps, [100, 200, 400, 800, 1000]);
  });

  it('a server delay (Retry-After / RetryInfo) wins over a shorter backoff, not over a longer one', async () => {
    const clock = new FakeClock();
    let n = 0;
    await withRetry(retry({ initial_interval: '1s', multiplier: 10, max_interval: '60s' }), async () => {
      n++;
      if (n === 1) throw new RetryableError('slow down', { retryAfterMs: 7000 });
      if (n === 2) throw new RetryableError('slow down', { retryAfterMs: 3000 });
      return 'ok';
    }, new AbortController().signal, clock);
    assert.deepEqual(clock.sleeps, [7000, 10000]);
  });

  it('gives up with retries_exhausted before a wait would pass max_elapsed_time', async () => {
    const clock = new FakeClock();
    let attempts = 0;
    const out = await withRetry(retry({ initial_interval: '1s', multiplier: 1, max_elapsed_time: '3500ms' }), async () => { attempts++; throw new Error('refused'); }, new AbortController().signal, clock);
    assert.equal(out.ok, false);
    assert.ok(!out.ok && out.reason === 'retries_exhausted' && out.error instanceof RetryableError && /no more retries left: refused/.test(out.error.message));
    assert.deepEqual(clock.sleeps, [1000, 1000, 1000]);
    assert.equal(attempts, 4);
    assert.ok(clock.t <= 3500);
  });

  it('max_elapsed_time 0 retries forever', async () => {
    const clock = new FakeClock();
    let n = 0;
    const out = await withRetry(retry({ initial_interval: '1s', max_interval: '30s', max_elapsed_time: 0 }), async () => {
      if (++n < 200) throw new RetryableError('down');
      return n;
    }, new AbortController().signal, clock);
    assert.deepEqual(out, { ok: true, value: 200 });
    assert.ok(clock.t > 300_000 * 10, `kept going past the default budget: ${clock.t} ms`);
  });

  it('a permanent error is not retried; retry disabled means one attempt', async () => {
    const clock = new FakeClock();
    let n = 0;
    const perm = await withRetry(retry(), async () => { n++; throw new PermanentError('bad span'); }, new AbortController().signal, clock);
    assert.ok(!perm.ok && perm.reason === 'permanent_error' && isPermanent(perm.error));
    const off = await withRetry(retry({ enabled: false }), async () => { n++; throw new RetryableError('down'); }, new AbortController().signal, clock);
    assert.ok(!off.ok && off.reason === 'retry_disabled');
    assert.equal(n, 2);
    assert.deepEqual(clock.sleeps, []);
  });

  it('abort ends a backoff wait and starts no new one', async () => {
    const abort = new AbortController();
    const clock = new FakeClock();
    const out = await withRetry(retry(), async () => { abort.abort(); throw new RetryableError('down'); }, abort.signal, clock);
    assert.ok(!out.ok && out.reason === 'shutdown' && /shutting down, retry abandoned: down/.test(out.error.message));
  });
});

// ---- queue -----------------------------------------------------------------------------------

describe('exporterhelper: sending_queue in memory', () => {
  it('consume resolves once queued; the queue owns the batch and sends it', async () => {
    const t = new Recorder();
    const push = new ControlledPush();
    const h = new ExporterHelper(settings(t), ['traces'], push.fn, { queue: queue({ num_consumers: 1 }), retry: retry(), timeoutMs: 0 });
    await h.start(noHost);
    await consumer(h).consume(spans(3));
    await push.nextCall(1);
    assert.equal(t.get('sent'), 0, 'not sent yet, but consume already resolved');
    push.calls[0]!.resolve();
    await tick();
    assert.equal(t.get('sent'), 3);
    assert.equal(t.gauges.get('exporter_queue_capacity')!(), 1000);
    await h.shutdown();
  });

  it('a full queue refuses with a RetryableError naming the exporter, counted as refused', async () => {
    const t = new Recorder();
    const push = new ControlledPush();
    const h = new ExporterHelper(settings(t), ['traces'], push.fn, { queue: queue({ num_consumers: 1, queue_size: 2 }), retry: retry(), timeoutMs: 0 });
    await h.start(noHost);
    await consumer(h).consume(spans(1)); // in flight
    await push.nextCall(1);
    await consumer(h).consume(spans(1));
    await consumer(h).consume(spans(1));
    assert.equal(t.gauges.get('exporter_queue_size')!(), 2);
    await assert.rejects(consumer(h).consume(spans(5)), (err: Error) => err instanceof RetryableError && /^otlp\/test: sending queue is full \(2 batches\)/.test(err.message));
    assert.equal(t.get('refused'), 5);
    for (let i = 0; i < 3; i++) { await push.nextCall(i + 1); push.calls[i]!.resolve(); await tick(); }
    await h.shutdown();
    assert.equal(t.get('sent'), 3);
  });

  it('block_on_overflow (or its old name blocking) waits for room instead of refusing', async () => {
    const t = new Recorder();
    const push = new ControlledPush();
    const { value: q, issues } = readConfig(queueSchema, { num_consumers: 1, queue_size: 1, blocking: true });
    assert.equal(q.block_on_overflow, true);
    assert.match(issues[0]!.message, /"blocking" is deprecated, use "block_on_overflow"/);
    const h = new ExporterHelper(settings(t), ['traces'], push.fn, { queue: q, retry: retry(), timeoutMs: 0 });
    await h.start(noHost);
    await consumer(h).consume(spans(1));
    await push.nextCall(1);
    await consumer(h).consume(spans(1));
    let third = false;
    const blocked = consumer(h).consume(spans(1)).then(() => { third = true; });
    await tick();
    assert.equal(third, false, 'waits while the queue is full');
    push.calls[0]!.resolve();
    await blocked;
    assert.equal(t.get('refused'), 0);
    await push.nextCall(2); push.calls[1]!.resolve();
    await push.nextCall(3); push.calls[2]!.resolve();
    await h.shutdown();
    assert.equal(t.get('sent'), 3);
  });

  it('after enqueue, a permanent error or spent retries drop the batch with the reason, logged once per interval', async () => {
    const t = new Recorder();
    const log = new LogRecorder();
    const clock = new FakeClock();
    let n = 0;
    const push: PushFunc = async () => { n++; throw n === 1 ? new PermanentError('bad span') : new RetryableError('down'); };
    const h = new ExporterHelper(settings(t, log), ['traces'], push, { queue: queue({ num_consumers: 1 }), retry: retry({ max_elapsed_time: '20s' }), timeoutMs: 0, clock });
    await h.start(noHost);
    await consumer(h).consume(spans(2));
    await consumer(h).consume(spans(3));
    await consumer(h).consume(spans(4));
    for (let i = 0; i < 50 && t.get('dropped:retries_exhausted') < 7; i++) await tick();
    assert.equal(t.get('dropped:permanent_error'), 2);
    assert.equal(t.get('dropped:retries_exhausted'), 7);
    await h.shutdown();
    const lines = log.lines.filter((l) => l.msg === 'batches not delivered');
    assert.ok(lines.length <= 3, `aggregated, not per batch: ${lines.length} lines`);
    assert.ok(lines.some((l) => l.fields?.reason === 'retries_exhausted' && l.fields?.batches === 2 && l.fields?.items === 7));
  });

  it('shutdown stops backoff waits and drains the queue with one attempt per batch; failures count as dropped{shutdown}', async () => {
    const t = new Recorder();
    const push = new ControlledPush();
    const h = new ExporterHelper(settings(t), ['traces'], push.fn, { queue: queue({ num_consumers: 1 }), retry: retry({ initial_interval: '1h' }), timeoutMs: 0 });
    await h.start(noHost);
    await consumer(h).consume(spans(1));
    await consumer(h).consume(spans(2));
    await consumer(h).consume(spans(3));
    await push.nextCall(1);
    push.calls[0]!.reject(new RetryableError('down')); // now in a 1 h backoff wait
    await tick();
    const stopping = h.shutdown();
    await push.nextCall(2);
    push.calls[1]!.resolve(); // drained: sent
    await push.nextCall(3);
    push.calls[2]!.reject(new RetryableError('down')); // drained: no retry at shutdown
    await stopping;
    assert.equal(push.calls.length, 3, 'the batch in backoff was not tried again');
    assert.equal(t.get('sent'), 2);
    assert.equal(t.get('dropped:shutdown'), 4);
    await assert.rejects(consumer(h).consume(spans(1)), /otlp\/test: exporter is not running/);
  });

  it('shutdown counts what the drain deadline left in the queue as dropped{shutdown}', async () => {
    const t = new Recorder();
    const push = new ControlledPush();
    const h = new ExporterHelper(settings(t), ['traces'], push.fn, { queue: queue({ num_consumers: 1 }), retry: retry(), timeoutMs: 0, drainTimeoutMs: 50 });
    await h.start(noHost);
    for (let i = 0; i < 4; i++) await consumer(h).consume(spans(10));
    await h.shutdown(); // the first push never answers
    assert.equal(t.get('dropped:shutdown'), 30);
  });

  it('without the queue consume waits for the backend and rejects with the final error and the exporter id', async () => {
    const t = new Recorder();
    const h = new ExporterHelper(settings(t), ['traces'], async () => { throw new PermanentError('bad span'); }, { queue: queue({ enabled: false }), retry: retry(), timeoutMs: 0 });
    await h.start(noHost);
    await assert.rejects(consumer(h).consume(spans(2)), (err: Error) => isPermanent(err) && err.message === 'otlp/test: export traces: bad span');
    assert.equal(t.get('failed'), 2);
    await h.shutdown();
  });

  it('timeout bounds each attempt', async () => {
    const t = new Recorder();
    const h = new ExporterHelper(settings(t), ['traces'], () => new Promise<void>(() => {}), { queue: queue({ enabled: false }), retry: retry({ enabled: false }), timeoutMs: 20 });
    await h.start(noHost);
    await assert.rejects(consumer(h).consume(spans(1)), (err: Error) => err instanceof RetryableError && /timeout after 20ms/.test(err.message));
    await h.shutdown();
  });
});

// ---- persistent queue --------------------------------------------------------------------------

function budget(limitBytes = 0): DiskBudget & { used: number } {
  return {
    used: 0, limitBytes,
    tryReserve(b) { if (limitBytes && this.used + b > limitBytes) return false; this.used += b; return true; },
    claim(b) { this.used += b; },
    release(b) { this.used -= b; },
  };
}

function tmp(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-pq-')); }

describe('exporterhelper: persistent queue files', () => {
  it('what was offered and not acked comes back after reopening, in order; acked records do not', async () => {
    const dir = tmp();
    const loc = { directory: dir, fsync: true, budget: budget() };
    const { queue: q } = PersistentQueue.open(loc, 100);
    for (const s of ['a', 'b', 'c', 'd']) assert.equal(q.offer(Buffer.from(s)), 'ok');
    const a = (await q.take())!;
    const b = (await q.take())!;
    assert.equal(a.item.toString(), 'a');
    b.ack(); // b sent; a still in flight when the process "dies"
    q.close(); q.dispose();
    const again = PersistentQueue.open({ ...loc, budget: budget() }, 100);
    assert.deepEqual(again.report, { recovered: 3, corruptRecords: 0, skippedBytes: 0 });
    const got: string[] = [];
    for (let i = 0; i < 3; i++) { const t = (await again.queue.take())!; got.push(t.item.toString()); t.ack(); }
    assert.deepEqual(got, ['a', 'c', 'd']);
    again.queue.close(); again.queue.dispose();
  });

  it('a segment is deleted once sealed and fully acked, and its bytes return to the budget', async () => {
    const dir = tmp();
    const b = budget();
    const { queue: q } = PersistentQueue.open({ directory: dir, fsync: false, budget: b }, 100);
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    q.offer(big); q.offer(big); q.offer(Buffer.from('small'));
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).length, 2, 'the second 5 MiB batch opened a new segment');
    for (let i = 0; i < 3; i++) (await q.take())!.ack();
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.seg')), ['000000000002.seg'], 'the first segment is gone; the one being written stays');
    assert.equal(b.used, 5 * 1024 * 1024 + 12 + 5 + 12);
    q.close(); q.dispose();
  });

  it('refuses with disk_full when the budget is used up', () => {
    const { queue: q } = PersistentQueue.open({ directory: tmp(), fsync: false, budget: budget(100) }, 100);
    assert.equal(q.offer(Buffer.alloc(50)), 'ok');
    assert.equal(q.offer(Buffer.alloc(50)), 'disk_full');
    q.close(); q.dispose();
  });

  it('skips a record with a bad checksum and a truncated tail, keeps the others', async () => {
    const dir = tmp();
    const loc = { directory: dir, fsync: false, budget: budget() };
    const { queue: q } = PersistentQueue.open(loc, 100);
    for (let i = 0; i < 5; i++) q.offer(Buffer.from(`record-${i}-${'x'.repeat(100)}`));
    q.close(); q.dispose();
    const file = path.join(dir, '000000000001.seg');
    const data = fs.readFileSync(file);
    const size = 12 + 109;
    data[size * 1 + 40] ^= 0xff; // record 1: payload flipped
    fs.writeFileSync(file, data.subarray(0, size * 4 + 30)); // record 4 cut short
    const scan = scanRecords(fs.readFileSync(file));
    assert.deepEqual(scan.records.map((r) => r.offset), [0, size * 2, size * 3]);
    const again = PersistentQueue.open({ ...loc, budget: budget() }, 100);
    assert.equal(again.report.recovered, 3);
    assert.equal(again.report.corruptRecords, 2);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await again.queue.take())!.item.toString().slice(0, 8));
    assert.deepEqual(got, ['record-0', 'record-2', 'record-3']);
    again.queue.close(); again.queue.dispose();
  });

  it('garbage where a segment should be is skipped whole, without an exception', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, '000000000001.seg'), Buffer.from('this is not a queue file at all'));
    fs.writeFileSync(path.join(dir, '000000000003.ack'), Buffer.from([1, 2])); // orphan, torn
    const { queue: q, report } = PersistentQueue.open({ directory: dir, fsync: false, budget: budget() }, 10);
    assert.deepEqual(report, { recovered: 0, corruptRecords: 1, skippedBytes: 31 });
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing valid left: the files are removed');
    q.close(); q.dispose();
  });
});

describe('exporterhelper: persistent sending queue through file_storage', () => {
  async function storage(dir: string, maxMib = 1024): Promise<Host> {
    const cfg = readConfig(fileStorageExtensionFactory.config, { directory: dir, max_size_mib: maxMib });
    assert.deepEqual(cfg.issues, []);
    const ext = fileStorageExtensionFactory.create(settings(new Recorder(), silentLogger, 'file_storage/q'), cfg.value);
    await ext.start(noHost);
    return { ...noHost, getExtension: (id) => (id === 'file_storage/q' ? ext : undefined) };
  }

  it('batches survive a stop without delivery and are sent by the next instance; corrupt ones are counted', async () => {
    const dir = path.join(tmp(), 'missing', 'queue');
    const host = await storage(dir);
    const t1 = new Recorder();
    const down: PushFunc = async () => { throw new RetryableError('connection refused'); };
    const first = new ExporterHelper(settings(t1), ['traces'], down, { queue: queue({ storage: 'file_storage/q', num_consumers: 2 }), retry: retry({ initial_interval: '1h' }), timeoutMs: 0 });
    await first.start(host);
    for (let i = 0; i < 10; i++) await consumer(first).consume(spans(5));
    await first.shutdown();
    assert.equal(t1.get('dropped:shutdown'), 0, 'nothing lost: it stays on disk');
    const qdir = path.join(dir, 'exporter_otlp~test', 'traces');
    const seg = path.join(qdir, '000000000001.seg');
    const bytes = fs.readFileSync(seg);
    bytes[30] ^= 0xff; // the first record's payload
    fs.writeFileSync(seg, bytes);

    const t2 = new Recorder();
    const log = new LogRecorder();
    const received = new Set<string>();
    const up: PushFunc = async (_s, data) => {
      for (const sp of (data as TracesData).resourceSpans[0]!.scopeSpans[0]!.spans) received.add(Buffer.from(sp.spanId!).toString('hex'));
    };
    const second = new ExporterHelper(settings(t2, log), ['traces'], up, { queue: queue({ storage: 'file_storage/q' }), retry: retry(), timeoutMs: 0 });
    await second.start(host);
    for (let i = 0; i < 100 && t2.get('sent') < 45; i++) await tick();
    await second.shutdown();
    assert.equal(t2.get('sent'), 45);
    assert.equal(received.size, 45);
    assert.equal(t2.get('dropped:corrupt_record'), 1);
    assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'persistent queue: skipped corrupt records' && l.fields?.corrupt_records === 1));
    assert.deepEqual(fs.readdirSync(qdir).filter((f) => f.endsWith('.seg')), [], 'everything acked: nothing left on disk after a clean stop');
  });

  it('a missing storage extension fails start with the exporter id; a full disk budget refuses retryably', async () => {
    const h = new ExporterHelper(settings(new Recorder()), ['traces'], async () => {}, { queue: queue({ storage: 'file_storage/nope' }), retry: retry(), timeoutMs: 0 });
    await assert.rejects(h.start(noHost), /otlp\/test: sending_queue.storage: "file_storage\/nope" is not a running storage extension/);
    const host = await storage(tmp(), 1);
    const t = new Recorder();
    const full = new ExporterHelper(settings(t), ['traces'], () => new Promise<void>(() => {}), { queue: queue({ storage: 'file_storage/q' }), retry: retry(), timeoutMs: 0 });
    await full.start(host);
    let refused: unknown;
    for (let i = 0; i < 200 && !refused; i++) await consumer(full).consume(spans(100)).catch((e: unknown) => { refused = e; });
    assert.ok(refused instanceof RetryableError && /persistent queue is full/.test(refused.message), String(refused));
    assert.ok(t.get('refused') > 0);
  });

  it('codec round trip: what was queued is what is pushed', async () => {
    const host = await storage(tmp());
    const data = spans(3);
    let pushed: TracesData | undefined;
    const h = new ExporterHelper(settings(new Recorder()), ['traces'], async (_s, d) => { pushed = d as TracesData; }, { queue: queue({ storage: 'file_storage/q' }), retry: retry(), timeoutMs: 0 });
    await h.start(host);
    await consumer(h).consume(data);
    for (let i = 0; i < 50 && !pushed; i++) await tick();
    await h.shutdown();
    assert.deepEqual(JSON.parse(codecs.traces.encodeRequestJson(pushed!)), JSON.parse(codecs.traces.encodeRequestJson(data)));
  });
});
