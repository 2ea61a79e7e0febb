// OTLP in Kafka messages: one ExportXServiceRequest per message, protobuf (otlp_proto) or
// OTLP/JSON (otlp_json), as the Collector's kafka exporter writes and its receiver reads.
import { codecs } from '../otlp/codec';
import type { Signal, SignalData } from '../pdata';
import type { Encoding } from './config';

type AnyCodec<S extends Signal> = {
  encodeRequest(d: SignalData[S]): Uint8Array;
  encodeRequestJson(d: SignalData[S]): string;
  decodeRequest(b: Uint8Array): SignalData[S];
  decodeRequestJson(b: Uint8Array): SignalData[S];
};

function codec<S extends Signal>(signal: S): AnyCodec<S> {
  return codecs[signal] as unknown as AnyCodec<S>;
}

export function marshal<S extends Signal>(signal: S, encoding: Encoding, data: SignalData[S]): Buffer {
  if (encoding === 'otlp_json') return Buffer.from(codec(signal).encodeRequestJson(data), 'utf8');
  const u8 = codec(signal).encodeRequest(data);
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Throws PermanentError on bytes that are not a request of this signal in this encoding. */
export function unmarshal<S extends Signal>(signal: S, encoding: Encoding, bytes: Buffer): SignalData[S] {
  return encoding === 'otlp_json' ? codec(signal).decodeRequestJson(bytes) : codec(signal).decodeRequest(bytes);
}
