// Kafka for the kafka exporter and receiver: the client interface, its kafkajs implementation,
// the shared config and the OTLP message encodings.
export type {
  BatchHandler, Compression, ConsumerOptions, GroupJoin, IncomingBatch, IncomingMessage, KafkaClient, KafkaClientOptions,
  KafkaConsumer, KafkaProducer, KafkaSasl, KafkaTls, OutgoingMessage, ProducerOptions,
} from './client';
export { kafkajsClient } from './kafkajs';
export { clientFields, clientIgnored, DEFAULT_TOPICS, effectiveTls, encodingFor, ENCODINGS, signalTopicSchema, topicFor, validateClient, type ClientConfig, type Encoding } from './config';
export { marshal, unmarshal } from './encoding';
export { clientOptions } from './options';
