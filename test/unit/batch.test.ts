// The batch processor: size and timeout triggers, max-size splits, back-pressure, failures that
// reach the callers who still own the data, and a shutdown that flushes everything.
import assert from 'node:assert/strict';
import type { Component, ComponentTelemetry, Consumer, Settings } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { RetryableError } from '../../pipeline/errors';
import { silentLogger } from '../../pipeline/logger';
import { countItems, type Span, type TracesData } from '../../pipeline/pdata';
import { batchProcessorFactory } from '../../processors/batch';

interface Recorder extends ComponentTelemetry {
  counts: { name: string; value: number; attributes?: Record<string, string> }[];
  gauges: Map<string, () => number>;
}

function recorder(): Recorder {
  const counts: Recorder['counts'] = [];
  const gauges = new Map<string, () => number>();
  return {
    counts, gauges,
    accepted() {}, refused() {}, dropped() {}, sent() {}, failed() {},
    observeGauge(name, _d, read) { gauges.set(name, read); },
    count(name, value, attributes) { counts.push(attributes ? { name, value, attributes } : { name, value }); },
  };
}

function settings(telemetry: ComponentTelemetry): Settings {
  return { id: 'batch', kind: 'processor', logger: silentLogger, telemetry, buildInfo: { command: 'sonde', version: 'test' } };
}

let nextSpan = 0;
/** n spans named s<k> in one resource and scope. */
function spans(n: number, res = 'r'): TracesData {
  const list: Span[] = Array.from({ length: n }, () => ({ name: `s${nextSpan++}`, attributes: [], events: [], links: [] }));
  return { resourceSpans: [{ resource: { attributes: [{ key: 'res', value: { stringValue: res } }] }, scopeSpans: [{ scope: { name: 'sc', attributes: [] }, spans: list }] }] };
}

function names(d: TracesData): string[] {
  return d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name!)));
}

/** A downstream whose every consume waits until the test settles it. */
class Downstream implements Consumer<TracesData> {
  readonly batches: TracesData[] = [];
  private readonly settle: { resolve(): void; reject(e: unknown): void }[] = [];
  constructor(private mode: 'manual' | 'ok' = 'ok', private readonly failOn = new Set<number>()) {
    downstreams.push(this);
  }

  consume(data: TracesData): Promise<void> {
    const call = this.batches.push(data);
    if (this.mode === 'ok') return this.failOn.has(call) ? Promise.reject(new RetryableError(`call ${call} failed`)) : Promise.resolve();
    return new Promise((resolve, reject) => this.settle.push({ resolve, reject }));
  }

  /** Lets whatever a failed test left waiting finish, so shutdown cannot hang. */
  releaseAll(): void {
    this.mode = 'ok';
    for (const s of this.settle) s.resolve();
  }

  resolve(i: number): void { this.settle[i]!.resolve(); }
  reject(i: number, err: unknown): void { this.settle[i]!.reject(err); }
  sizes(): number[] { return this.batches.map((b) => countItems('traces', b)); }
}

const downstreams: Downstream[] = [];
type Batch = Component & Consumer<TracesData>;
const open: Batch[] = [];

function build(config: Record<string, unknown>, next: Consumer<TracesData>, telemetry = recorder()): Batch {
  const { value, issues } = readConfig(batchProcessorFactory.config, config);
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  assert.deepEqual(batchProcessorFactory.validate?.(value) ?? [], []);
  const b = batchProcessorFactory.create(settings(telemetry), value, 'traces', next);
  open.push(b);
  return b;
}

/** Resolves to 'pending' if p has not settled after the current turn of the event loop. */
async function state(p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  const marker = Symbol('pending');
  const r = await Promise.race([p.then(() => 'resolved' as const, () => 'rejected' as const), new Promise((res) => setImmediate(() => res(marker)))]);
  return r === marker ? 'pending' : (r as 'resolved' | 'rejected');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('batch processor', () => {
  afterEach(async () => {
    for (const d of downstreams.splice(0)) d.releaseAll();
    await Promise.all(open.splice(0).map((b) => b.shutdown()));
  });

  describe('config', () => {
    it('has the Collector defaults', () => {
      const { value, issues } = readConfig(batchProcessorFactory.config, null);
      assert.deepEqual(issues, []);
      assert.deepEqual(value, { send_batch_size: 8192, send_batch_max_size: 0, timeout: 200 });
    });

    it('rejects send_batch_max_size below send_batch_size', () => {
      const { value } = readConfig(batchProcessorFactory.config, { send_batch_size: 100, send_batch_max_size: 50 });
      const issues = batchProcessorFactory.validate!(value);
      assert.equal(issues.length, 1);
      assert.deepEqual(issues[0]!.path, ['send_batch_max_size']);
      assert.equal(issues[0]!.message, 'must be 0 (no limit) or >= send_batch_size (100), got 50');
    });

    it('accepts metadata_keys and metadata_cardinality_limit with a warning', () => {
      const { issues } = readConfig(batchProcessorFactory.config, { metadata_keys: ['tenant'], metadata_cardinality_limit: 10 });
      assert.deepEqual(issues.map((i) => [i.severity, i.path.join('.')]), [['warning', 'metadata_keys'], ['warning', 'metadata_cardinality_limit']]);
    });
  });

  it('sends when pending items reach send_batch_size, and callers wait for that send', async () => {
    const down = new Downstream('manual');
    const t = recorder();
    const b = build({ send_batch_size: 10, timeout: '1h' }, down, t);
    const p1 = b.consume(spans(4));
    const p2 = b.consume(spans(4));
    assert.equal(down.batches.length, 0);
    assert.equal(t.gauges.get('batch_pending_items')!(), 8);
    const p3 = b.consume(spans(4));
    await sleep(0);
    assert.deepEqual(down.sizes(), [12], 'send_batch_size is a trigger, not a cap');
    assert.equal(await state(p1), 'pending', 'consume waits for the export');
    down.resolve(0);
    await Promise.all([p1, p2, p3]);
    assert.deepEqual(t.counts, [
      { name: 'batch_send_size', value: 12, attributes: { trigger: 'size' } },
      { name: 'batch_size_trigger_send', value: 1 },
    ]);
  });

  it('sends on timeout what has waited since the first pending item', async () => {
    const down = new Downstream();
    const t = recorder();
    const b = build({ send_batch_size: 1000, timeout: '40ms' }, down, t);
    const started = Date.now();
    const p = b.consume(spans(3));
    await sleep(10);
    const q = b.consume(spans(2));
    assert.equal(down.batches.length, 0);
    await Promise.all([p, q]);
    const waited = Date.now() - started;
    assert.ok(waited >= 35 && waited < 1000, `sent after ${waited}ms`);
    assert.deepEqual(down.sizes(), [5]);
    assert.deepEqual(t.counts.map((c) => c.name), ['batch_send_size', 'timeout_trigger_send']);
  });

  it('timeout 0 sends at once', async () => {
    const down = new Downstream();
    const b = build({ send_batch_size: 1000, timeout: 0 }, down);
    await b.consume(spans(3));
    assert.deepEqual(down.sizes(), [3]);
  });

  it('never sends more than send_batch_max_size: a large consume is split, in order', async () => {
    const down = new Downstream();
    const b = build({ send_batch_size: 10, send_batch_max_size: 10, timeout: '30ms' }, down);
    const data = spans(25);
    const expected = names(data);
    await b.consume(data);
    assert.deepEqual(down.sizes(), [10, 10, 5], 'two size sends, the rest on timeout');
    assert.deepEqual(down.batches.flatMap(names), expected);
  });

  it('splits across callers: the max applies to merged data too', async () => {
    const down = new Downstream();
    const b = build({ send_batch_size: 8, send_batch_max_size: 8, timeout: '20ms' }, down);
    const inputs = [spans(3, 'a'), spans(7, 'b'), spans(4, 'c')];
    const expected = inputs.flatMap(names);
    await Promise.all(inputs.map((d) => b.consume(d)));
    for (const n of down.sizes()) assert.ok(n <= 8);
    assert.deepEqual(down.batches.flatMap(names), expected);
    // Each piece keeps its own resource.
    const resources = down.batches.flatMap((d) => d.resourceSpans.map((rs) => rs.resource!.attributes[0]!.value!.stringValue));
    assert.deepEqual(resources, ['a', 'b', 'b', 'c']);
  });

  it('back-pressure: with sends in flight at the bound, consume waits and pending stays bounded', async () => {
    const down = new Downstream('manual');
    const t = recorder();
    const b = build({ send_batch_size: 1, timeout: '1h' }, down, t);
    const calls = Array.from({ length: 20 }, () => b.consume(spans(1)));
    await sleep(5);
    assert.equal(down.batches.length, 8, 'at most 8 sends in flight');
    assert.equal(t.gauges.get('batch_pending_items')!(), 1, 'the others wait outside the batch');
    for (const c of calls) assert.equal(await state(c), 'pending');
    down.resolve(0);
    await calls[0];
    await sleep(0);
    assert.equal(down.batches.length, 9, 'a finished send lets the next one go');
    for (let i = 1; i < 20; i++) {
      await sleep(0);
      down.resolve(i);
    }
    await Promise.all(calls);
    assert.equal(down.batches.length, 20);
  });

  it('a downstream failure rejects the callers whose items were in that send, with its error', async () => {
    const down = new Downstream('manual');
    const b = build({ send_batch_size: 10, timeout: '1h' }, down);
    const p1 = b.consume(spans(5));
    const p2 = b.consume(spans(5));
    await sleep(0);
    const err = new RetryableError('backend down', { retryAfterMs: 500 });
    down.reject(0, err);
    await assert.rejects(p1, (e) => e === err);
    await assert.rejects(p2, (e) => e === err);
  });

  it('data split across two sends: a failure of the second rejects its owner, the first owner resolves', async () => {
    const down = new Downstream('ok', new Set([2]));
    const b = build({ send_batch_size: 10, send_batch_max_size: 10, timeout: '1h' }, down);
    const a = b.consume(spans(6));
    const bb = b.consume(spans(6)); // 4 go with a's 6, 2 wait
    const c = b.consume(spans(8)); // b's 2 + c's 8 = the second send, which fails
    await a;
    await assert.rejects(bb, /call 2 failed/);
    await assert.rejects(c, /call 2 failed/);
    assert.deepEqual(down.sizes(), [10, 10]);
  });

  it('data split across two sends: a failure of the first rejects at once and withdraws the rest', async () => {
    const down = new Downstream('ok', new Set([1]));
    const t = recorder();
    const b = build({ send_batch_size: 10, send_batch_max_size: 10, timeout: '1h' }, down, t);
    const a = b.consume(spans(6));
    const bb = b.consume(spans(6));
    await assert.rejects(a, /call 1 failed/);
    await assert.rejects(bb, /call 1 failed/);
    assert.equal(t.gauges.get('batch_pending_items')!(), 0, "the failed caller's 2 pending items are withdrawn: it resends them");
    await b.shutdown();
    assert.deepEqual(down.sizes(), [10]);
  });

  it('a failure of one send does not touch callers of another', async () => {
    const down = new Downstream('ok', new Set([1]));
    const b = build({ send_batch_size: 5, send_batch_max_size: 5, timeout: '1h' }, down);
    const a = b.consume(spans(5));
    const c = b.consume(spans(5));
    await assert.rejects(a, /call 1 failed/);
    await c;
  });

  it('shutdown flushes everything pending and waits for sends in flight', async () => {
    const down = new Downstream('manual');
    const b = build({ send_batch_size: 10, send_batch_max_size: 10, timeout: '1h' }, down);
    const p1 = b.consume(spans(12)); // 10 sent, 2 pending
    const p2 = b.consume(spans(3));
    await sleep(0);
    assert.deepEqual(down.sizes(), [10]);
    let done = false;
    const stopping = b.shutdown().then(() => { done = true; });
    await sleep(0);
    assert.deepEqual(down.sizes(), [10, 5], 'shutdown sends what is pending at once');
    assert.equal(done, false, 'shutdown waits for the sends');
    down.resolve(0);
    down.resolve(1);
    await stopping;
    await Promise.all([p1, p2]);
    assert.equal(b.shutdown(), b.shutdown(), 'shutdown twice is the same shutdown');
  });

  it('after shutdown, data passes straight through', async () => {
    const down = new Downstream();
    const b = build({}, down);
    await b.shutdown();
    await b.consume(spans(2));
    assert.deepEqual(down.sizes(), [2]);
  });

  it('an empty batch resolves at once and sends nothing', async () => {
    const down = new Downstream();
    const b = build({ timeout: 0 }, down);
    await b.consume({ resourceSpans: [] });
    assert.equal(down.batches.length, 0);
  });
});
