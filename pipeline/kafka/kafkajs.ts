// The Kafka client interfaces of client.ts over kafkajs 2.2.4. Everything kafkajs-specific stays
// here: its config, its error classes, its log lines (sent to Sonde's logger, never the console),
// its snappy hook and the range assigner.
import {
  CompressionCodecs, CompressionTypes, Kafka, logLevel, PartitionAssigners,
  type Consumer, type EachBatchPayload, type KafkaConfig, type LogEntry, type Producer, type SASLOptions,
} from 'kafkajs';
import { errorMessage, PermanentError, RetryableError } from '../errors';
import type { LogFields, Logger } from '../logger';
import type {
  BatchHandler, Compression, ConsumerOptions, KafkaClient, KafkaClientOptions, KafkaConsumer, KafkaProducer,
  OutgoingMessage, ProducerOptions,
} from './client';
import { javaPartitioner } from './partitioner';
import { rangeAssigner } from './range-assigner';
import { kafkajsSnappyCodec } from './snappy';

// kafkajs has one global codec table; snappy is ours (gzip is built in).
(CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.Snappy] = () => kafkajsSnappyCodec;

const COMPRESSION: Record<Compression, CompressionTypes> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy };

/** Broker answers that mean this data can never be written as it is: retrying cannot help. */
const PERMANENT_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'UNSUPPORTED_COMPRESSION_TYPE', 'INVALID_TOPIC_EXCEPTION']);

/** The same lines from the library at most once per this interval (a dead broker logs per retry). */
const LOG_REPEAT_MS = 10_000;

export function kafkajsClient(opts: KafkaClientOptions): KafkaClient {
  const config: KafkaConfig = {
    brokers: opts.brokers,
    clientId: opts.clientId,
    retry: { retries: opts.retries, initialRetryTime: opts.retryBackoffMs, maxRetryTime: Math.max(opts.retryBackoffMs * 8, 2000) },
    logLevel: logLevel.INFO,
    logCreator: logBridge(opts.logger),
  };
  if (opts.tls) config.ssl = { ...opts.tls };
  if (opts.sasl) config.sasl = { mechanism: opts.sasl.mechanism, username: opts.sasl.username, password: opts.sasl.password } as SASLOptions;
  const kafka = new Kafka(config);
  return {
    producer: (p) => new KafkajsProducer(kafka, p, opts.metadataMaxAgeMs),
    consumer: (c) => new KafkajsConsumer(kafka, c, opts.metadataMaxAgeMs),
  };
}

// ---- logging -----------------------------------------------------------------------------------

function logBridge(logger: Logger): () => (entry: LogEntry) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return () => ({ namespace, level, log }) => {
    // Stack traces would make one log line many; the message says what failed.
    const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = log as { message: string; timestamp: string; logger?: unknown; stack?: unknown; [k: string]: unknown };
    const fields: LogFields = { kafka_client: namespace };
    for (const [k, v] of Object.entries(extra)) fields[k] = scalar(v);
    if (level === logLevel.INFO || level === logLevel.DEBUG) {
      logger.debug(`kafka: ${message}`, fields);
      return;
    }
    const key = `${namespace}|${message}`;
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < LOG_REPEAT_MS) {
      seen.suppressed++;
      return;
    }
    if (seen?.suppressed) fields['repeated'] = seen.suppressed;
    last.set(key, { at: now, suppressed: 0 });
    if (last.size > 1000) last.clear();
    logger.warn(`kafka: ${message}`, fields);
  };
}

function scalar(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Error) return v.message;
  try {
    const s = JSON.stringify(v);
    return s.length > 500 ? `${s.slice(0, 500)}...` : s;
  } catch {
    return String(v);
  }
}

// ---- errors ------------------------------------------------------------------------------------

/** The broker error type (MESSAGE_TOO_LARGE, ...) anywhere in kafkajs' chain of causes. */
function protocolType(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

function classify(what: string, err: unknown): Error {
  const type = protocolType(err);
  const message = `${what}: ${errorMessage(err)}${type && !errorMessage(err).includes(type) ? ` (${type})` : ''}`;
  if (type && PERMANENT_TYPES.has(type)) return new PermanentError(message, { cause: err });
  // Unreachable brokers, leader changes, timeouts, authentication: the cluster may be back soon.
  return new RetryableError(message, { cause: err });
}

// ---- producer ----------------------------------------------------------------------------------

class KafkajsProducer implements KafkaProducer {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(kafka: Kafka, private readonly opts: ProducerOptions, metadataMaxAge: number) {
    this.producer = kafka.producer({
      // Java's murmur2 partitioner: the same key lands on the same partition as with any client.
      createPartitioner: javaPartitioner,
      allowAutoTopicCreation: opts.allowAutoTopicCreation,
      metadataMaxAge,
      idempotent: false,
    });
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new RetryableError('kafka producer is closed'));
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw classify('connect to kafka', err);
    });
    return this.connecting;
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.connect();
    try {
      await this.producer.send({ topic, messages, acks: this.opts.acks, timeout: this.opts.timeoutMs, compression: COMPRESSION[this.opts.compression] });
    } catch (err) {
      throw classify(`produce to ${topic}`, err);
    }
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    const connecting = this.connecting;
    if (!connecting) return;
    await connecting.catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }
}

// ---- consumer ----------------------------------------------------------------------------------

class KafkajsConsumer implements KafkaConsumer {
  private readonly consumer: Consumer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping: Promise<void> | undefined;

  constructor(kafka: Kafka, private readonly opts: ConsumerOptions, metadataMaxAge: number) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      partitionAssigners: [opts.rebalanceStrategy === 'range' ? rangeAssigner : PartitionAssigners.roundRobin],
      sessionTimeout: opts.sessionTimeoutMs,
      heartbeatInterval: opts.heartbeatIntervalMs,
      // Java's default: long enough for the members to rejoin while a handler finishes.
      rebalanceTimeout: Math.max(60_000, opts.sessionTimeoutMs),
      minBytes: opts.minBytes,
      maxBytesPerPartition: opts.maxBytesPerPartition,
      ...(opts.maxBytes > 0 ? { maxBytes: opts.maxBytes } : {}),
      maxWaitTimeInMs: opts.maxWaitMs,
      metadataMaxAge,
      allowAutoTopicCreation: true,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      opts.onJoin?.({ groupId: e.payload.groupId, memberId: e.payload.memberId, isLeader: e.payload.isLeader, assignment: { ...e.payload.memberAssignment } });
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => opts.onCrash?.(e.payload.error, e.payload.restart));
  }

  async start(handler: BatchHandler): Promise<void> {
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: this.opts.topics, fromBeginning: this.opts.fromBeginning });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.opts.partitionsConcurrently,
        eachBatch: (payload) => handler(this.batchOf(payload)),
      });
    } catch (err) {
      await this.consumer.disconnect().catch(() => undefined);
      throw classify(`join consumer group ${this.opts.groupId}`, err);
    }
  }

  private batchOf(p: EachBatchPayload): Parameters<BatchHandler>[0] {
    const { topic, partition } = p.batch;
    return {
      topic,
      partition,
      messages: p.batch.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value })),
      commit: async (offset) => {
        p.resolveOffset(offset);
        // The committed offset is the next one to read.
        await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
      },
      pauseFor: (ms) => {
        const resume = p.pause();
        const t = setTimeout(() => { this.timers.delete(t); resume(); }, ms);
        this.timers.add(t);
      },
      active: () => p.isRunning() && !p.isStale(),
      heartbeat: () => p.heartbeat(),
    };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      await this.consumer.disconnect().catch(() => undefined);
    })();
    return this.stopping;
  }
}
