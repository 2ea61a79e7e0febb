// service.telemetry in the Collector's forms: metrics.level, the older metrics.address, the
// newer metrics.readers (pull/prometheus, periodic/otlp), logs.level, resource. Options Sonde
// does not implement but that common Collector files carry are accepted with a warning.
import type { Diagnostics } from './diagnostics';
import { locate, toPlain, type Entry } from './positions';
import { error, readConfig, s, type Schema } from './schema';
import type { TelemetryConfig, TelemetryLevel } from './types';

export const DEFAULT_PROMETHEUS = '127.0.0.1:8888';
const COMPONENT = 'service::telemetry';

function required<T>(inner: Schema<T>): Schema<T> {
  return { ...inner, fallback: undefined };
}

const ignored = (what: string): string => `Sonde does not implement ${what}`;

/** `{name: value}` (older files) or `[{name, value}]` (the declarative-config form). */
const headers: Schema<Record<string, string>> = {
  expected: 'a mapping of header names to values',
  fallback: () => ({}),
  read(value, path, issues) {
    if (!Array.isArray(value)) return s.map(s.string()).read(value, path, issues);
    const item = s.object({ name: s.string({ nonEmpty: true }), value: s.string({ default: '' }) });
    const out: Record<string, string> = {};
    value.forEach((v, i) => {
      const h = item.read(v, [...path, i], issues);
      if (h.name) out[h.name] = h.value;
    });
    return out;
  },
};

/** Attribute values are strings; a null removes the attribute (as in the Collector). */
const resource: Schema<Record<string, string>> = {
  expected: 'a mapping of attribute names to strings',
  fallback: () => ({}),
  read(value, path, issues) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.map(s.unknown()).read(value, path, issues))) {
      if (v !== null && v !== undefined) out[k] = s.string().read(v, [...path, k], issues);
    }
    return out;
  },
};

const prometheus = s.object({
  host: s.string({ default: '127.0.0.1' }),
  port: s.int({ default: 8888, min: 1, max: 65535 }),
}, {
  ignored: {
    without_type_suffix: ignored('Prometheus name options'),
    without_units: ignored('Prometheus name options'),
    without_scope_info: ignored('Prometheus name options'),
    with_resource_constant_labels: ignored('Prometheus name options'),
    translation_strategy: ignored('Prometheus name options'),
  },
});

const otlp = s.object({
  protocol: s.enum(['grpc', 'http/protobuf'], { default: 'http/protobuf' }),
  endpoint: s.string({ nonEmpty: true }),
  headers,
}, {
  ignored: {
    compression: ignored('compression of its own metrics'),
    timeout: ignored('a separate export timeout'),
    insecure: ignored('TLS options for its own metrics'),
    certificate: ignored('TLS options for its own metrics'),
    client_key: ignored('TLS options for its own metrics'),
    client_certificate: ignored('TLS options for its own metrics'),
    temporality_preference: ignored('temporality options (cumulative is used)'),
    default_histogram_aggregation: ignored('histogram aggregation options'),
  },
});

const pull = s.object({ exporter: required(s.object({ prometheus: required(prometheus) })) });
const periodic = s.object({
  interval: s.int({ default: 60_000, min: 1 }),
  exporter: required(s.object({ otlp: required(otlp) })),
}, { ignored: { timeout: ignored('a separate export timeout') } });

const readerFields = s.object({ pull: s.optional(pull), periodic: s.optional(periodic) });
type Reader = ReturnType<typeof readerFields.read>;

const reader: Schema<Reader> = {
  expected: 'a reader with pull or periodic',
  fallback: undefined,
  read(value, path, issues) {
    const r = readerFields.read(value, path, issues);
    if ((r.pull === undefined) === (r.periodic === undefined)) issues.push(error(path, 'expected exactly one of "pull" or "periodic"'));
    return r;
  },
};

const LEVELS = ['none', 'basic', 'normal', 'detailed'] as const;

const telemetrySchema = s.object({
  metrics: s.object({
    level: s.enum<TelemetryLevel>(LEVELS, { default: 'normal' }),
    address: s.optional(s.string()),
    readers: s.optional(s.array(reader)),
  }, { ignored: { views: ignored('metric views') } }),
  logs: s.object({
    level: s.enum(['debug', 'info', 'warn', 'error'], { default: 'info' }),
    encoding: s.enum(['json', 'console'], { default: 'json' }),
  }, {
    ignored: {
      development: ignored('development logging'),
      sampling: ignored('log sampling'),
      disable_caller: ignored('caller fields'),
      disable_stacktrace: ignored('stack trace options'),
      output_paths: ignored('log output paths (logs go to stderr)'),
      error_output_paths: ignored('log output paths (logs go to stderr)'),
      initial_fields: ignored('initial log fields'),
      processors: ignored('log processors'),
    },
  }),
  resource,
}, { ignored: { traces: ignored('traces of itself') } });

/** Reads service.telemetry (absent = every default). */
export function readTelemetry(entry: Entry | undefined, diags: Diagnostics): TelemetryConfig {
  const { value: t, issues } = readConfig(telemetrySchema, entry ? toPlain(entry.value) : undefined);
  if (entry) diags.issues(entry, issues, COMPONENT);
  const where = (...path: (string | number)[]) => (entry ? locate(entry, path) : undefined);
  const whereKey = (...path: (string | number)[]) => (entry ? locate(entry, path, true) : undefined);

  if (t.logs.encoding === 'console') diags.warning('logs.encoding: "console" is ignored: Sonde writes JSON lines', where('logs', 'encoding'), COMPONENT);

  let prom = DEFAULT_PROMETHEUS;
  let push: TelemetryConfig['metrics']['otlp'];
  const { address, readers } = t.metrics;
  if (address !== undefined) {
    diags.warning('metrics.address is deprecated, use metrics.readers with a pull prometheus exporter', whereKey('metrics', 'address'), COMPONENT);
    if (readers && readers.length > 0) {
      diags.error('metrics.address and metrics.readers cannot both be set', whereKey('metrics', 'address'), COMPONENT);
    } else if (!isHostPort(address)) {
      diags.error(`metrics.address: expected host:port, got "${address}"`, where('metrics', 'address'), COMPONENT);
    } else {
      prom = address;
    }
  }
  if (readers && readers.length > 0) {
    prom = '';
    readers.forEach((r, i) => {
      // After a schema error a part may be missing; that error is already reported.
      const p = r?.pull?.exporter?.prometheus;
      if (p) {
        if (prom !== '') diags.error(`metrics.readers[${i}]: only one pull reader is supported`, where('metrics', 'readers', i), COMPONENT);
        prom = `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
      }
      const o = r?.periodic?.exporter?.otlp;
      if (o && r.periodic) {
        if (push) diags.error(`metrics.readers[${i}]: only one periodic reader is supported`, where('metrics', 'readers', i), COMPONENT);
        push = { endpoint: o.endpoint, protocol: o.protocol, intervalMs: r.periodic.interval, headers: o.headers };
      }
    });
  }
  // Level none means no self-metrics at all: nothing is served or pushed.
  if (t.metrics.level === 'none') { prom = ''; push = undefined; }

  const metrics: TelemetryConfig['metrics'] = { level: t.metrics.level, prometheus: prom };
  if (push) metrics.otlp = push;
  return { metrics, logs: { level: t.logs.level }, resource: t.resource };
}

function isHostPort(text: string): boolean {
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}
