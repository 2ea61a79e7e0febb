// Snappy for Kafka record batches, which kafkajs leaves to the application. Compress writes raw
// snappy blocks (what librdkafka and kafkajs' own codecs write); decompress also reads the
// xerial framing the Java producer writes (magic header, then length-prefixed blocks).
import * as snappy from 'snappy';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16; // magic, version (int32), compatible version (int32)

export function snappyCompress(data: Buffer): Buffer {
  return snappy.compressSync(data, { copyOutputData: true });
}

export function snappyDecompress(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return snappy.uncompressSync(data, { asBuffer: true, copyOutputData: true }) as Buffer;
  }
  const parts: Buffer[] = [];
  let pos = XERIAL_HEADER;
  while (pos + 4 <= data.length) {
    const size = data.readUInt32BE(pos);
    pos += 4;
    if (pos + size > data.length) throw new Error(`xerial snappy block of ${size} bytes runs past the end`);
    parts.push(snappy.uncompressSync(data.subarray(pos, pos + size), { asBuffer: true, copyOutputData: true }) as Buffer);
    pos += size;
  }
  return Buffer.concat(parts);
}

/** The codec object kafkajs' CompressionCodecs table expects. */
export const kafkajsSnappyCodec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> { return snappyCompress(encoder.buffer); },
  async decompress(buffer: Buffer): Promise<Buffer> { return snappyDecompress(buffer); },
};
