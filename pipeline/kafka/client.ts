// The one narrow boundary between Sonde and a Kafka client library. The kafka exporter and
// receiver talk only to these interfaces; kafkajs.ts implements them today (kafkajs 2.2.4 is in
// maintenance mode, @confluentinc/kafka-javascript may replace it: only that file would change).
import type { Logger } from '../logger';

export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  minVersion?: import('node:tls').SecureVersion;
  maxVersion?: import('node:tls').SecureVersion;
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  tls?: KafkaTls;
  sasl?: KafkaSasl;
  /** Retries of metadata and connection requests inside the client, and their first backoff. */
  retries: number;
  retryBackoffMs: number;
  metadataMaxAgeMs: number;
  /** Where the library's own log lines go (never the console). */
  logger: Logger;
}

export type Compression = 'none' | 'gzip' | 'snappy';

export interface ProducerOptions {
  /** 0 (no answer), 1 (leader), -1 (all in-sync replicas). */
  acks: 0 | 1 | -1;
  compression: Compression;
  /** How long the broker may take to answer one produce request. */
  timeoutMs: number;
  allowAutoTopicCreation: boolean;
}

export interface OutgoingMessage {
  /** Same key, same partition (the Java client's murmur2 partitioner). Null: spread evenly. */
  key: Buffer | null;
  value: Buffer;
}

export interface KafkaProducer {
  /** Connects, or waits for the connection under way; rejects when the cluster cannot be reached. */
  connect(): Promise<void>;
  /** One produce call for messages to one topic; rejects with RetryableError or PermanentError. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface IncomingMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** Messages fetched from one partition, handed to the handler in offset order. */
export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /** Marks everything up to `offset` done and commits it to the group (the next start reads after it). */
  commit(offset: string): Promise<void>;
  /**
   * Stops fetching this partition for `ms`; what was not committed is fetched again afterwards.
   * The handler should return right after.
   */
  pauseFor(ms: number): void;
  /** False once the consumer is stopping or the partition was taken away: stop and return. */
  active(): boolean;
  heartbeat(): Promise<void>;
}

export type BatchHandler = (batch: IncomingBatch) => Promise<void>;

export interface GroupJoin {
  groupId: string;
  memberId: string;
  isLeader: boolean;
  /** topic -> partitions now owned by this member. */
  assignment: Record<string, number[]>;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts: the oldest message or only new ones. */
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceStrategy: 'range' | 'roundrobin';
  minBytes: number;
  maxBytesPerPartition: number;
  /** 0 = no limit. */
  maxBytes: number;
  maxWaitMs: number;
  /** Partitions whose batches are handled at the same time. */
  partitionsConcurrently: number;
  onJoin?: (join: GroupJoin) => void;
  /** The client gave up after an error (it restarts on its own when it can). */
  onCrash?: (err: Error, restarting: boolean) => void;
}

export interface KafkaConsumer {
  /** Connects, joins the group and starts handing batches; rejects if the cluster cannot be reached. */
  start(handler: BatchHandler): Promise<void>;
  /** Stops fetching, lets the handlers under way finish, leaves the group. Safe twice. */
  stop(): Promise<void>;
}

export interface KafkaClient {
  producer(opts: ProducerOptions): KafkaProducer;
  consumer(opts: ConsumerOptions): KafkaConsumer;
}
