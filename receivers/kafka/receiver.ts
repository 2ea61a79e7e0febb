// The kafka receiver: one consumer-group member reading the topics of the signals it serves.
//
// Delivery. A partition's fetched messages go into the pipeline in offset order (all at once:
// the batch processor answers a caller only when its batch is exported, so one at a time would
// be paced by its timeout), and an offset is committed only once the pipeline accepted that
// message and every one before it: at-least-once, never at-most-once as the Collector's default.
// otlp_proto messages fetched together go in as one request (merge.ts: one resource entry per
// distinct resource), accepted and committed together; when that is refused as bad data, or a
// message does not merge, they go one by one as below.
//   - A retryable refusal (memory limit, full queue, backend down) pauses the partition for a
//     back-off; the refused message and the ones after it are fetched again (those after it may
//     then be delivered twice).
//   - A permanent refusal (bad data) is counted as dropped{permanent_error} and the offset moves on.
//   - A message that does not decode is counted (malformed_messages) and skipped.
//   - A rebalance or a crash hands the uncommitted messages to the next owner: they may be
//     delivered twice, never lost.
import type { Component, Consumer, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { ComponentError, errorMessage, isPermanent, retryAfterMs } from '../../pipeline/errors';
import type { IncomingBatch, IncomingMessage, KafkaClient, KafkaClientOptions, KafkaConsumer } from '../../pipeline/kafka/client';
import { encodingFor, topicFor, type Encoding } from '../../pipeline/kafka/config';
import { unmarshal } from '../../pipeline/kafka/encoding';
import { kafkajsClient } from '../../pipeline/kafka/kafkajs';
import { clientOptions } from '../../pipeline/kafka/options';
import { countItems, SIGNALS, type Signal, type SignalData } from '../../pipeline/pdata';
import type { KafkaReceiverConfig } from './config';
import { mergeRequests } from './merge';

export type ClientMaker = (opts: KafkaClientOptions) => KafkaClient;

/** Partitions whose batches go through the pipeline at the same time. */
const PARTITIONS_CONCURRENTLY = 8;
/** Back-off between attempts to reach the cluster and join the group. */
const JOIN_RETRY_MIN_MS = 500;
const JOIN_RETRY_MAX_MS = 10_000;
/** At most one warning line per interval for each kind of trouble. */
const WARN_INTERVAL_MS = 30_000;

interface Route { signal: Signal; encoding: Encoding; consumer: Consumer<SignalData[Signal]> }
type Outcome = { ok: true } | { ok: false; retryAfterMs: number | undefined };

export class KafkaReceiver implements Component {
  private readonly routes = new Map<string, Route>();
  private readonly failures = new Map<string, number>();
  private readonly lastWarn = new Map<string, number>();
  private readonly abort = new AbortController();
  private consumer: KafkaConsumer | undefined;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly settings: Settings, private readonly config: KafkaReceiverConfig, next: SignalConsumers, private readonly makeClient: ClientMaker = kafkajsClient) {
    for (const signal of SIGNALS) {
      const consumer = next[signal] as Consumer<SignalData[Signal]> | undefined;
      if (!consumer) continue;
      const topic = topicFor(config, signal);
      const taken = this.routes.get(topic);
      if (taken) throw new ComponentError(settings.id, `${taken.signal} and ${signal} both read topic "${topic}": give each signal its own topic (traces.topic, metrics.topic, logs.topic)`);
      this.routes.set(topic, { signal, encoding: encodingFor(config, signal), consumer });
    }
  }

  async start(_host: Host): Promise<void> {
    let opts: KafkaClientOptions;
    try {
      opts = await clientOptions(this.config, this.settings.logger);
    } catch (err) {
      throw new ComponentError(this.settings.id, errorMessage(err), { cause: err });
    }
    // Joining waits for the cluster; a cluster that is down must not stop the other pipelines.
    this.loop = this.join(this.makeClient(opts));
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer?.stop();
    await this.loop;
  }

  private async join(client: KafkaClient): Promise<void> {
    const c = this.config;
    let delay = JOIN_RETRY_MIN_MS;
    while (!this.abort.signal.aborted) {
      const consumer = client.consumer({
        groupId: c.group_id,
        topics: [...this.routes.keys()],
        fromBeginning: c.initial_offset === 'earliest',
        sessionTimeoutMs: c.session_timeout,
        heartbeatIntervalMs: c.heartbeat_interval,
        rebalanceStrategy: c.group_rebalance_strategy.toLowerCase() === 'roundrobin' ? 'roundrobin' : 'range',
        minBytes: c.min_fetch_size,
        maxBytesPerPartition: c.default_fetch_size,
        maxBytes: c.max_fetch_size,
        maxWaitMs: c.max_fetch_wait,
        partitionsConcurrently: PARTITIONS_CONCURRENTLY,
        onJoin: (j) => this.settings.logger.info('kafka receiver joined group', {
          group_id: j.groupId, member_id: j.memberId, leader: j.isLeader,
          partitions: Object.entries(j.assignment).map(([t, ps]) => `${t}:${[...ps].sort((a, b) => a - b).join(',')}`).join(';'),
        }),
        onCrash: (err, restarting) => {
          this.warn('crash', 'kafka consumer failed', { error: errorMessage(err), restarting });
          // The client restarts itself only after errors it deems retriable; a gateway must not
          // silently stop reading, so after any other one we join again with a new consumer.
          if (!restarting) this.rejoin(client, consumer);
        },
      });
      this.consumer = consumer;
      try {
        await consumer.start((batch) => this.handle(batch));
        return;
      } catch (err) {
        await consumer.stop();
        if (this.abort.signal.aborted) return;
        this.warn('join', 'kafka receiver cannot join its group yet, retrying', { error: errorMessage(err), retry_in_ms: delay });
        await sleep(delay, this.abort.signal);
        delay = Math.min(delay * 2, JOIN_RETRY_MAX_MS);
      }
    }
  }

  private rejoin(client: KafkaClient, crashed: KafkaConsumer): void {
    if (this.abort.signal.aborted || this.consumer !== crashed) return;
    const previous = this.loop;
    this.loop = (async () => {
      await previous;
      await crashed.stop();
      await sleep(JOIN_RETRY_MIN_MS, this.abort.signal);
      if (!this.abort.signal.aborted) await this.join(client);
    })();
  }

  /** One partition's fetched messages: into the pipeline in order, offsets committed as accepted. */
  private async handle(batch: IncomingBatch): Promise<void> {
    const route = this.routes.get(batch.topic);
    if (!route || batch.messages.length === 0) return;
    if (route.encoding === 'otlp_proto' && batch.messages.length > 1 && await this.handleMerged(route, batch)) return;
    const outcomes = batch.messages.map((m) => this.deliver(route, batch.topic, m));
    let ready: string | undefined;
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = await outcomes[i]!;
      if (!outcome.ok) {
        // Nothing of this batch may still be running once the partition is paused.
        await Promise.allSettled(outcomes.slice(i + 1));
        if (ready !== undefined) await this.commit(batch, ready);
        batch.pauseFor(this.backoff(batch, outcome.retryAfterMs));
        return;
      }
      this.failures.delete(`${batch.topic}/${batch.partition}`);
      ready = batch.messages[i]!.offset;
      // Commit what is accepted so far whenever the next message is not done yet.
      if (i === outcomes.length - 1 || !settled.has(outcomes[i + 1]!)) {
        await this.commit(batch, ready);
        ready = undefined;
        await batch.heartbeat().catch(() => undefined);
      }
      if (!batch.active()) {
        await Promise.allSettled(outcomes.slice(i + 1));
        return;
      }
    }
  }

  /**
   * The fetched messages as one request (merge.ts), one call into the pipeline, one commit. False
   * when they must go one by one instead: one does not merge or decode (the malformed one is then
   * counted and skipped alone), or the pipeline refused the whole as bad data (then only the
   * refused messages are dropped; the others may be delivered twice, never lost).
   */
  private async handleMerged(route: Route, batch: IncomingBatch): Promise<boolean> {
    const values: Buffer[] = new Array<Buffer>(batch.messages.length);
    for (let i = 0; i < values.length; i++) {
      const v = batch.messages[i]!.value;
      if (!v || v.length === 0) return false;
      values[i] = v;
    }
    const merged = mergeRequests(values);
    if (!merged) return false;
    const { signal } = route;
    let data: SignalData[Signal];
    try {
      data = unmarshal(signal, route.encoding, merged);
    } catch {
      return false;
    }
    const items = countItems(signal, data);
    try {
      await route.consumer.consume(data);
    } catch (err) {
      if (isPermanent(err)) return false;
      this.settings.telemetry.refused(signal, items);
      batch.pauseFor(this.backoff(batch, retryAfterMs(err)));
      return true;
    }
    this.settings.telemetry.accepted(signal, items);
    this.failures.delete(`${batch.topic}/${batch.partition}`);
    await this.commit(batch, batch.messages[values.length - 1]!.offset);
    await batch.heartbeat().catch(() => undefined);
    return true;
  }

  private async commit(batch: IncomingBatch, offset: string): Promise<void> {
    try {
      await batch.commit(offset);
    } catch (err) {
      // A rebalance took the partition: its next owner reads from the last committed offset.
      this.warn('commit', 'kafka receiver could not commit an offset (the messages after the last commit will be read again)', { topic: batch.topic, partition: batch.partition, error: errorMessage(err) });
    }
  }

  private deliver(route: Route, topic: string, m: IncomingMessage): Promise<Outcome> {
    const p = this.deliverOne(route, topic, m);
    void p.then(() => settled.add(p));
    return p;
  }

  private async deliverOne(route: Route, topic: string, m: IncomingMessage): Promise<Outcome> {
    const { signal } = route;
    const t = this.settings.telemetry;
    let data: SignalData[Signal];
    try {
      if (!m.value || m.value.length === 0) throw new Error('empty message');
      data = unmarshal(signal, route.encoding, m.value);
    } catch (err) {
      t.count('malformed_messages', 1, { signal, topic });
      this.warn('malformed', 'kafka receiver skipped messages that are not OTLP', { topic, encoding: route.encoding, offset: m.offset, error: errorMessage(err) });
      return { ok: true };
    }
    const items = countItems(signal, data);
    try {
      await route.consumer.consume(data);
      t.accepted(signal, items);
      return { ok: true };
    } catch (err) {
      if (isPermanent(err)) {
        t.dropped(signal, items, 'permanent_error');
        this.warn('permanent', 'kafka receiver dropped messages the pipeline rejected as bad data', { topic, offset: m.offset, error: errorMessage(err) });
        return { ok: true };
      }
      t.refused(signal, items);
      return { ok: false, retryAfterMs: retryAfterMs(err) };
    }
  }

  /** The partition's next pause: the pipeline's own delay when it gave one, else exponential. */
  private backoff(batch: IncomingBatch, hinted: number | undefined): number {
    const key = `${batch.topic}/${batch.partition}`;
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const b = this.config.error_backoff;
    if (hinted !== undefined) return Math.min(Math.max(hinted, 1), b.max_interval);
    const base = Math.min(b.initial_interval * b.multiplier ** n, b.max_interval);
    const jitter = base * b.randomization_factor * (2 * Math.random() - 1);
    return Math.max(1, Math.round(base + jitter));
  }

  private warn(kind: string, msg: string, fields: Record<string, string | number | boolean>): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(kind) ?? -Infinity) < WARN_INTERVAL_MS) return;
    this.lastWarn.set(kind, now);
    this.settings.logger.warn(msg, fields);
  }
}

/** Promises of deliveries that have finished (so a commit can cover several at once). */
const settled = new WeakSet<Promise<Outcome>>();

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
