// gRPC service definitions for the three OTLP Export methods, built on the codecs (no
// @grpc/proto-loader: protobufjs types as (de)serializers are ~1.7x faster, see NOTES.md).
//
// grpc-js answers INTERNAL ("Error deserializing request: ...") when a server's
// requestDeserialize throws (server-interceptors.js, @grpc/grpc-js 1.14), while OTLP wants
// INVALID_ARGUMENT for bad data. So:
// - servers (receivers) use otlpGrpcRawServices: the request arrives as the raw Buffer and the
//   handler calls codecs[signal].decodeRequest itself, mapping PermanentError to INVALID_ARGUMENT;
// - otlpGrpcServices decodes in the deserializer; it is meant for clients (exporters), where
//   request serialization is the codec's encode and the response is decoded for them.
// Both work with grpc.Server#addService and grpc.makeGenericClientConstructor (method `Export`).
import type * as grpc from '@grpc/grpc-js';
import type { Signal, SignalData } from '../pdata';
import { codecs, type PartialSuccess, type SignalCodec } from './codec';

/** What an Export call answers: {rejected: 0, message: ''} (or undefined) is full success. */
export type ExportResponse = PartialSuccess;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type OtlpMethod<S extends Signal> = grpc.MethodDefinition<SignalData[S], ExportResponse | undefined>;
export type OtlpRawMethod = grpc.MethodDefinition<Uint8Array, ExportResponse | undefined>;

function typedService<S extends Signal>(signal: S): { Export: OtlpMethod<S> } {
  const codec = codecs[signal] as unknown as SignalCodec<S>;
  return {
    Export: {
      path: codec.grpcPath,
      requestStream: false,
      responseStream: false,
      originalName: 'export',
      requestSerialize: (data) => toBuffer(codec.encodeRequest(data)),
      requestDeserialize: (bytes) => codec.decodeRequest(bytes),
      responseSerialize: (resp) => toBuffer(codec.encodeResponse(resp)),
      responseDeserialize: (bytes) => codec.decodeResponse(bytes),
    },
  };
}

function rawService(signal: Signal): { Export: OtlpRawMethod } {
  const codec = codecs[signal];
  return {
    Export: {
      path: codec.grpcPath,
      requestStream: false,
      responseStream: false,
      originalName: 'export',
      // Already-encoded requests (e.g. from a persistent queue) go out as they are.
      requestSerialize: (bytes) => toBuffer(bytes),
      requestDeserialize: (bytes) => bytes,
      responseSerialize: (resp) => toBuffer(codec.encodeResponse(resp)),
      responseDeserialize: (bytes) => codec.decodeResponse(bytes),
    },
  };
}

/**
 * Decoding definitions: request = pdata, response = {rejected, message}. For clients; a server
 * using these answers INTERNAL (not INVALID_ARGUMENT) to malformed requests.
 */
export const otlpGrpcServices: { [S in Signal]: grpc.ServiceDefinition } = {
  traces: typedService('traces'),
  metrics: typedService('metrics'),
  logs: typedService('logs'),
};

/**
 * Pass-through definitions: request = the raw protobuf bytes (Buffer). For servers: the handler
 * decodes with codecs[signal].decodeRequest and answers INVALID_ARGUMENT on PermanentError.
 */
export const otlpGrpcRawServices: { [S in Signal]: grpc.ServiceDefinition } = {
  traces: rawService('traces'),
  metrics: rawService('metrics'),
  logs: rawService('logs'),
};

/** Fully qualified gRPC service names, for makeGenericClientConstructor's second argument. */
export const otlpGrpcServiceNames: { [S in Signal]: string } = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};
