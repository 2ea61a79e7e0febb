// Writes each batch as one OTLP export request: a line of OTLP/JSON, or protobuf bytes behind a
// 4-byte big-endian length (the Collector's file exporter framing). consume() resolves once the
// OS has the whole record; records land in the order consume() was called.
import type { Component, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { ComponentError, PermanentError, errorMessage } from '../../pipeline/errors';
import { codecs } from '../../pipeline/otlp/codec';
import { countItems, type Signal, type SignalData } from '../../pipeline/pdata';
import type { FileExporterConfig } from './config';
import { FileWriter, type Rotation } from './writer';

const MiB = 1024 * 1024;
const NEWLINE = new Uint8Array([0x0a]);

export class FileExporter implements Component {
  readonly consumers: SignalConsumers = {};
  private readonly writer: FileWriter;
  private started = false;

  constructor(private readonly settings: Settings, private readonly cfg: FileExporterConfig, signals: readonly Signal[]) {
    this.writer = new FileWriter(cfg.path, {
      append: cfg.append,
      rotation: cfg.rotation && rotationOf(cfg.rotation),
      syncIntervalMs: cfg.flush_interval,
      onBackgroundError: (what, err) => settings.logger.warn(`file exporter: ${what} failed`, { path: cfg.path, error: errorMessage(err) }),
    });
    for (const signal of signals) this.addConsumer(signal);
  }

  private addConsumer<S extends Signal>(signal: S): void {
    const consumer = { consume: (data: SignalData[S]) => this.export(signal, data) };
    (this.consumers as Record<Signal, unknown>)[signal] = consumer;
  }

  async start(_host: Host): Promise<void> {
    try {
      await this.writer.open();
    } catch (err) {
      throw new ComponentError(this.settings.id, `open ${this.cfg.path}: ${errorMessage(err)}`, { cause: err });
    }
    this.started = true;
  }

  async shutdown(): Promise<void> {
    if (!this.started) return;
    await this.writer.close();
  }

  private async export<S extends Signal>(signal: S, data: SignalData[S]): Promise<void> {
    const items = countItems(signal, data);
    const t = this.settings.telemetry;
    let record: Uint8Array[];
    try {
      record = this.encode(signal, data);
    } catch (err) {
      t.failed(signal, items);
      throw err instanceof PermanentError ? err : new PermanentError(`encode ${signal}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await this.writer.write(record);
    } catch (err) {
      t.failed(signal, items);
      throw err;
    }
    t.sent(signal, items);
  }

  private encode<S extends Signal>(signal: S, data: SignalData[S]): Uint8Array[] {
    const codec = codecs[signal] as unknown as { encodeRequestJson(d: SignalData[S]): string; encodeRequest(d: SignalData[S]): Uint8Array };
    if (this.cfg.format === 'json') return [Buffer.from(codec.encodeRequestJson(data), 'utf8'), NEWLINE];
    const body = codec.encodeRequest(data);
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(body.byteLength, 0);
    return [header, body];
  }
}

function rotationOf(r: NonNullable<FileExporterConfig['rotation']>): Rotation {
  return {
    maxBytes: (r.max_megabytes > 0 ? r.max_megabytes : 100) * MiB,
    maxDays: r.max_days,
    maxBackups: r.max_backups,
    localTime: r.localtime,
  };
}
