// The kafka exporter: one produce call per batch, through the shared exporter helper (queue,
// retry, timeout, self-metrics). Unlike the Collector's, a batch whose message would exceed
// producer.max_message_bytes is split until every part fits; only a single item that alone
// exceeds the limit is dropped, and counted.
import type { Settings } from '../../pipeline/component';
import { ExporterHelper, type PushResult } from '../../pipeline/exporterhelper';
import { ComponentError, errorMessage, RetryableError } from '../../pipeline/errors';
import type { Compression, KafkaClient, KafkaClientOptions, KafkaProducer, OutgoingMessage } from '../../pipeline/kafka/client';
import { kafkajsClient } from '../../pipeline/kafka/kafkajs';
import { clientOptions } from '../../pipeline/kafka/options';
import { encodingFor, topicFor, type Encoding } from '../../pipeline/kafka/config';
import { marshal } from '../../pipeline/kafka/encoding';
import { splitAt } from '../../pipeline/pdata-ops';
import { countItems, type Signal, type SignalData, type TracesData } from '../../pipeline/pdata';
import type { KafkaExporterConfig } from './config';
import { keyTraces } from './partition';
import { keyedTraceMessages } from './trace-messages';

/** The transports enforce `timeout` themselves; the helper's guard catches a call that never settles. */
const TIMEOUT_GUARD_MS = 1000;

export interface Messages { messages: OutgoingMessage[]; oversize: number }

/**
 * The messages for one batch: one per key (when partitioning) and as many as needed to stay
 * within maxBytes (key + value), halving a part that does not fit. Items that do not fit alone
 * are left out and counted in `oversize`.
 */
export function toMessages<S extends Signal>(signal: S, data: SignalData[S], encoding: Encoding, maxBytes: number, keying: { byId: boolean; byConnection: boolean }): Messages {
  if (signal === 'traces' && encoding === 'otlp_proto' && (keying.byId || keying.byConnection)) {
    return keyedTraceMessages(data as TracesData, maxBytes, keying.byId, keying.byConnection);
  }
  const out: Messages = { messages: [], oversize: 0 };
  const parts: { key: string | null; data: SignalData[S] }[] = signal === 'traces'
    ? keyTraces(data as TracesData, keying.byId, keying.byConnection) as unknown as { key: string | null; data: SignalData[S] }[]
    : [{ key: null, data }];
  for (const part of parts) {
    const key = part.key === null ? null : Buffer.from(part.key, 'utf8');
    fit(signal, part.data, countItems(signal, part.data), key, encoding, maxBytes, out);
  }
  return out;
}

function fit<S extends Signal>(signal: S, data: SignalData[S], items: number, key: Buffer | null, encoding: Encoding, maxBytes: number, out: Messages): void {
  if (items === 0) return;
  const value = marshal(signal, encoding, data);
  if (value.length + (key?.length ?? 0) <= maxBytes) {
    out.messages.push({ key, value });
    return;
  }
  if (items === 1) {
    out.oversize += 1;
    return;
  }
  const half = Math.floor(items / 2);
  const [head, tail] = splitAt(signal, data, half);
  fit(signal, head, half, key, encoding, maxBytes, out);
  fit(signal, tail, items - half, key, encoding, maxBytes, out);
}

export type ClientMaker = (opts: KafkaClientOptions) => KafkaClient;

export function kafkaExporter(settings: Settings, config: KafkaExporterConfig, signals: readonly Signal[], makeClient: ClientMaker = kafkajsClient): ExporterHelper {
  let producer: KafkaProducer | undefined;
  const keying = { byId: config.partition_traces_by_id, byConnection: config.partition_traces_by_connection };
  const push = async <S extends Signal>(signal: S, data: SignalData[S]): Promise<PushResult> => {
    if (!producer) throw new RetryableError(`${settings.id}: not started`);
    const topic = topicFor(config, signal);
    const { messages, oversize } = toMessages(signal, data, encodingFor(config, signal), config.producer.max_message_bytes, keying);
    if (messages.length > 0) await producer.send(topic, messages);
    if (oversize === 0) return { rejected: 0, message: '' };
    return { rejected: oversize, reason: 'oversize', message: `${oversize} ${signal} items each larger than producer.max_message_bytes (${config.producer.max_message_bytes}) were not sent` };
  };
  return new ExporterHelper(settings, signals, push, {
    queue: config.sending_queue,
    retry: config.retry_on_failure,
    timeoutMs: config.timeout > 0 ? config.timeout + TIMEOUT_GUARD_MS : 0,
    // The connection is made by the first send, so a broker that is down at start delays data
    // (retried by the helper) instead of failing the whole service.
    start: async () => {
      let opts: KafkaClientOptions;
      try {
        opts = await clientOptions(config, settings.logger);
      } catch (err) {
        throw new ComponentError(settings.id, errorMessage(err), { cause: err });
      }
      producer = makeClient(opts).producer({
        acks: config.producer.required_acks as 0 | 1 | -1,
        compression: config.producer.compression.toLowerCase() as Compression,
        timeoutMs: config.timeout,
        allowAutoTopicCreation: config.producer.allow_auto_topic_creation,
      });
      settings.logger.info('kafka exporter ready', {
        brokers: config.brokers.join(','),
        topics: signals.map((s) => `${s}=${topicFor(config, s)}`).join(','),
        partition_traces_by_id: keying.byId,
        partition_traces_by_connection: keying.byConnection,
      });
    },
    close: async () => { await producer?.disconnect(); },
  });
}
