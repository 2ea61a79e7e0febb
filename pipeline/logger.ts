// One structured line per event that matters (start, stop, failures, drop summaries); never one
// per data item. JSON lines on stderr so stdout stays free for the debug exporter's output.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line carries these fields too (component id, kind, ...). */
  with(fields: LogFields): Logger;
}

export interface LogSink { write(line: string): void }

export class JsonLogger implements Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly sink: LogSink = process.stderr,
    private readonly base: LogFields = {},
  ) {}

  debug(msg: string, fields?: LogFields): void { this.emit('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.emit('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.emit('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.emit('error', msg, fields); }

  with(fields: LogFields): Logger {
    return new JsonLogger(this.level, this.sink, { ...this.base, ...fields });
  }

  private emit(level: LogLevel, msg: string, fields?: LogFields): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const line = { ts: new Date().toISOString(), level, msg, ...this.base, ...fields };
    this.sink.write(JSON.stringify(line) + '\n');
  }
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  with() { return silentLogger; },
};
