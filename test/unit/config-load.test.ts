// The config loader end to end: one fixture per case under test/fixtures/config, exact messages.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { formatDiagnostic, loadConfig } from '../../pipeline/config/load';
import type { LoadedConfig } from '../../pipeline/config/types';
import { testRegistry } from '../fixtures/config/factories';

// Relative to the working directory, as a user would pass it on the command line.
const F = path.relative(process.cwd(), path.join(__dirname, '../fixtures/config'));

function load(files: string[], env: NodeJS.ProcessEnv = {}): { config?: LoadedConfig; lines: string[] } {
  const r = loadConfig(files.map((f) => path.join(F, f)), testRegistry(), env);
  assert.equal(r.config === undefined, r.diagnostics.some((d) => d.severity === 'error'), 'config is undefined iff there is an error');
  return { config: r.config, lines: r.diagnostics.map(formatDiagnostic) };
}

describe('config loader', () => {
  describe('a valid kitchen-sink file', () => {
    const { config, lines } = load(['valid-kitchen-sink.yaml']);

    it('loads without any diagnostic', () => {
      assert.deepEqual(lines, []);
      assert.ok(config);
    });

    it('reads every component with its schema, defaults applied', () => {
      const c = config!;
      assert.deepEqual([...c.receivers.keys()], ['otlp', 'prometheus']);
      assert.deepEqual(c.receivers.get('otlp')!.config, {
        protocols: { grpc: { endpoint: '0.0.0.0:4317', max_recv_msg_size_mib: 4 }, http: { endpoint: '127.0.0.1:4318' } },
      });
      assert.deepEqual(c.processors.get('batch')!.config, { send_batch_size: 512, send_batch_max_size: 0, timeout: 1000 });
      assert.deepEqual(c.processors.get('attributes/env')!.config, {
        actions: [{ key: 'deployment.environment', action: 'upsert', value: 'prod' }],
      });
      const tempo = c.exporters.get('otlp/tempo')!;
      assert.equal(tempo.type, 'otlp');
      assert.equal(tempo.kind, 'exporter');
      assert.deepEqual(tempo.config, {
        endpoint: 'tempo:4317', timeout: 5000, headers: { authorization: 'Bearer abc' }, tls: { insecure: true },
        retry_on_failure: { enabled: true, max_elapsed_time: 0 }, sending_queue: { queue_size: 1000, storage: 'file_storage/queue' },
      });
      assert.deepEqual(tempo.position, { file: path.join(F, 'valid-kitchen-sink.yaml'), line: 66, column: 3 });
      assert.deepEqual(c.connectors.get('forward/traces')!.config, {});
      assert.deepEqual(c.extensions.get('file_storage/queue')!.config, { directory: '/var/lib/sonde/queue' });
      assert.deepEqual(c.files, [path.join(F, 'valid-kitchen-sink.yaml')]);
    });

    it('reads the service: pipelines, extensions, telemetry, shutdown deadline', () => {
      const svc = config!.service;
      assert.deepEqual(svc.pipelines.map(({ position: _p, ...p }) => p), [
        { id: 'traces', signal: 'traces', receivers: ['otlp'], processors: ['attributes/env', 'batch'], exporters: ['otlp/tempo', 'spanmetrics', 'forward/traces'] },
        { id: 'traces/copy', signal: 'traces', receivers: ['forward/traces'], processors: [], exporters: ['debug'] },
        { id: 'metrics', signal: 'metrics', receivers: ['otlp', 'prometheus', 'spanmetrics'], processors: ['batch'], exporters: ['otlp/tempo'] },
        { id: 'logs', signal: 'logs', receivers: ['otlp'], processors: [], exporters: ['debug'] },
      ]);
      assert.deepEqual(svc.pipelines[0]!.position, { file: path.join(F, 'valid-kitchen-sink.yaml'), line: 5, column: 5 });
      assert.deepEqual(svc.extensions, ['health_check', 'file_storage/queue']);
      assert.deepEqual(svc.telemetry, {
        metrics: {
          level: 'detailed',
          prometheus: '0.0.0.0:9888',
          otlp: { endpoint: 'http://collector:4317', protocol: 'grpc', intervalMs: 10000, headers: { 'x-tenant': 'sonde' } },
        },
        logs: { level: 'debug' },
        resource: { 'service.name': 'sonde-agent' },
      });
      assert.equal(svc.shutdownTimeoutMs, 30000);
    });
  });

  it('reports an unknown top-level key with the nearest valid one', () => {
    assert.deepEqual(load(['unknown-top-level-key.yaml']).lines, [
      `${F}/unknown-top-level-key.yaml:1:1: error: unknown top-level key "recievers" (did you mean "receivers"?)`,
      `${F}/unknown-top-level-key.yaml:5:1: error: unknown top-level key "pipelines"; valid keys: receivers, processors, exporters, connectors, extensions, service`,
      `${F}/unknown-top-level-key.yaml:10:19: error: service::pipelines::traces: references receiver "otlp", which is not defined`,
    ]);
  });

  it('reports unknown component types with did-you-mean from the registry', () => {
    assert.deepEqual(load(['unknown-type.yaml']).lines, [
      `${F}/unknown-type.yaml:2:3: error: receivers::otlpp: unknown receiver type "otlpp" (did you mean "otlp"?)`,
      `${F}/unknown-type.yaml:3:3: error: receivers::kafka/in: unknown receiver type "kafka"; known types: otlp, prometheus`,
      `${F}/unknown-type.yaml:5:3: error: processors::batchh: unknown processor type "batchh" (did you mean "batch"?)`,
    ]);
  });

  it('checks component ids like the Collector', () => {
    assert.deepEqual(load(['invalid-ids.yaml']).lines, [
      `${F}/invalid-ids.yaml:2:3: error: receivers::otlp/: invalid id "otlp/": the name after "/" must not be empty`,
      `${F}/invalid-ids.yaml:3:3: error: receivers::1otlp: invalid id "1otlp": the type must start with a letter and hold only letters, digits and "_" (at most 63)`,
      `${F}/invalid-ids.yaml:3:3: warning: receivers::1otlp: unused: no pipeline uses it`,
      `${F}/invalid-ids.yaml:4:3: error: receivers::otlp/with space: invalid id "otlp/with space": the name must not contain spaces, control characters or symbols`,
      `${F}/invalid-ids.yaml:4:3: warning: receivers::otlp/with space: unused: no pipeline uses it`,
    ]);
  });

  it('positions schema issues at nested keys, list items and values', () => {
    assert.deepEqual(load(['schema-errors.yaml']).lines, [
      `${F}/schema-errors.yaml:5:19: error: receivers::otlp: protocols.grpc.endpoint: expected a string, got a list`,
      `${F}/schema-errors.yaml:6:9: error: receivers::otlp: protocols.grpc.max_recv_msg_size: unknown key "max_recv_msg_size" (did you mean "max_recv_msg_size_mib"?)`,
      `${F}/schema-errors.yaml:12:14: error: processors::attributes: actions[1].key: expected a non-empty string`,
      `${F}/schema-errors.yaml:13:17: error: processors::attributes: actions[1].action: expected one of insert, update, upsert, delete, got "remove"`,
      `${F}/schema-errors.yaml:15:22: error: processors::batch: send_batch_size: expected an integer >= 1, got "lots"`,
      `${F}/schema-errors.yaml:16:14: error: processors::batch: timeout: expected a duration such as 5s or 200ms, got "soon"`,
      `${F}/schema-errors.yaml:18:3: error: exporters::otlp: missing required key "endpoint" (a non-empty string)`,
      `${F}/schema-errors.yaml:19:10: error: exporters::otlp: tls: expected a mapping, got true`,
    ]);
  });

  it("runs the factory's cross-field validate after a clean schema read", () => {
    assert.deepEqual(load(['cross-field.yaml']).lines, [
      `${F}/cross-field.yaml:3:16: error: receivers::otlp: protocols: enable at least one of grpc, http`,
      `${F}/cross-field.yaml:7:26: error: processors::batch: send_batch_max_size: must be 0 or at least send_batch_size (1000)`,
    ]);
  });

  it('reports YAML syntax errors with positions', () => {
    assert.deepEqual(load(['yaml-syntax.yaml']).lines, [
      `${F}/yaml-syntax.yaml:4:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `${F}/yaml-syntax.yaml:6:1: error: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }`,
    ]);
  });

  it('reports duplicate keys at the second key', () => {
    assert.deepEqual(load(['duplicate-keys.yaml']).lines, [
      `${F}/duplicate-keys.yaml:5:7: error: receivers::otlp: protocols.grpc: duplicate key "grpc"`,
      `${F}/duplicate-keys.yaml:8:3: error: exporters::debug: duplicate key "debug"`,
    ]);
  });

  it('names a missing file, and still reports the problems of the others', () => {
    assert.deepEqual(load(['missing.yaml', 'yaml-syntax.yaml']).lines, [
      `error: cannot read config file "${F}/missing.yaml": no such file`,
      `${F}/yaml-syntax.yaml:4:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `${F}/yaml-syntax.yaml:6:1: error: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }`,
    ]);
    assert.deepEqual(load(['.']).lines, [`error: cannot read config file "${F}": is a directory`]);
    assert.deepEqual(loadConfig([], testRegistry(), {}).diagnostics.map(formatDiagnostic), ['error: no config file given']);
  });

  it('wants a mapping at the top and a service with pipelines', () => {
    assert.deepEqual(load(['not-a-mapping.yaml']).lines, [
      `${F}/not-a-mapping.yaml:1:1: error: expected a mapping at the top of the file, got a list`,
    ]);
    assert.deepEqual(load(['empty.yaml']).lines, [
      `${F}/empty.yaml:1:1: error: missing section "service": at least one pipeline is required`,
    ]);
    assert.deepEqual(load(['no-service.yaml']).lines, [
      `${F}/no-service.yaml:1:1: error: missing section "service": at least one pipeline is required`,
      `${F}/no-service.yaml:2:3: warning: exporters::debug: unused: no pipeline uses it`,
    ]);
  });

  it('reports every error of a file at once, in file order', () => {
    assert.deepEqual(load(['multi-error.yaml']).lines, [
      `${F}/multi-error.yaml:6:19: error: receivers::otlp: protocols.grpc.endpoint: expected a string, got a list`,
      `${F}/multi-error.yaml:7:3: error: receivers::otlpp/typo: unknown receiver type "otlpp" (did you mean "otlp"?)`,
      `${F}/multi-error.yaml:7:3: warning: receivers::otlpp/typo: unused: no pipeline uses it`,
      `${F}/multi-error.yaml:10:22: error: processors::batch: send_batch_size: expected an integer >= 1, got -1`,
      `${F}/multi-error.yaml:11:5: error: processors::batch: timeuot: unknown key "timeuot" (did you mean "timeout"?)`,
      `${F}/multi-error.yaml:13:3: warning: exporters::logging: exporter type "logging" is deprecated, use "debug"`,
      `${F}/multi-error.yaml:14:5: warning: exporters::logging: loglevel: "loglevel" is deprecated, use "verbosity"`,
      `${F}/multi-error.yaml:14:5: error: exporters::logging: verbosity: expected one of basic, normal, detailed, got "debug"`,
      `${F}/multi-error.yaml:16:15: warning: exporters::otlp: endpoint: environment variable "UNSET_ENDPOINT" is not set; using ""`,
      `${F}/multi-error.yaml:16:15: error: exporters::otlp: endpoint: expected a non-empty string`,
      `${F}/multi-error.yaml:22:30: error: service::extensions: extension "zpages" is not defined`,
      `${F}/multi-error.yaml:25:25: error: service::pipelines::traces: connector "forward" is used as a receiver but no pipeline uses it as an exporter`,
      `${F}/multi-error.yaml:26:27: error: service::pipelines::traces: processors[1]: "batch" is listed more than once`,
      `${F}/multi-error.yaml:27:28: error: service::pipelines::traces: references exporter "otlp/missing", which is not defined`,
      `${F}/multi-error.yaml:28:5: error: service::pipelines::metric: unknown signal "metric" (did you mean "metrics"?)`,
      `${F}/multi-error.yaml:33:14: error: service::telemetry: logs.level: expected one of debug, info, warn, error, got "loud"`,
      `${F}/multi-error.yaml:34:1: error: unknown top-level key "sevice" (did you mean "service"?)`,
    ]);
  });

  describe('several files', () => {
    it('merge in order: mappings deeply, lists replaced', () => {
      const { config, lines } = load(['merge-base.yaml', 'merge-override.yaml']);
      assert.deepEqual(lines, [`${F}/merge-base.yaml:12:3: warning: exporters::debug: unused: no pipeline uses it`]);
      const c = config!;
      assert.deepEqual(c.receivers.get('otlp')!.config, {
        protocols: { grpc: { endpoint: '0.0.0.0:4317', max_recv_msg_size_mib: 16 }, http: { endpoint: '0.0.0.0:4318' } },
      });
      assert.deepEqual(c.processors.get('batch')!.config, { send_batch_size: 200, send_batch_max_size: 0, timeout: 1000 });
      assert.deepEqual((c.exporters.get('otlp')!.config as { headers: unknown }).headers, { a: '1', b: '2' });
      assert.deepEqual(c.service.pipelines[0]!.exporters, ['otlp']);
      assert.deepEqual(c.service.pipelines[0]!.receivers, ['otlp']);
      assert.deepEqual(c.files, [path.join(F, 'merge-base.yaml'), path.join(F, 'merge-override.yaml')]);
    });

    it('report a problem against the file that set the value', () => {
      assert.deepEqual(load(['merge-base.yaml', 'merge-bad.yaml']).lines, [
        `${F}/merge-bad.yaml:7:9: error: receivers::otlp: protocols.http.cors: unknown key "cors"; valid keys: endpoint`,
        `${F}/merge-bad.yaml:10:14: error: exporters::otlp: timeout: expected a duration such as 5s or 200ms, got "5 seconds"`,
      ]);
    });
  });

  it('loads deprecated aliases and renamed keys with warnings', () => {
    const { config, lines } = load(['deprecated-alias.yaml']);
    assert.deepEqual(lines, [
      `${F}/deprecated-alias.yaml:3:3: warning: exporters::logging: exporter type "logging" is deprecated, use "debug"`,
      `${F}/deprecated-alias.yaml:4:5: warning: exporters::logging: loglevel: "loglevel" is deprecated, use "verbosity"`,
      `${F}/deprecated-alias.yaml:5:3: warning: exporters::logging/quiet: exporter type "logging" is deprecated, use "debug"`,
    ]);
    const logging = config!.exporters.get('logging')!;
    assert.equal(logging.type, 'debug');
    assert.deepEqual(logging.config, { verbosity: 'detailed' });
    assert.deepEqual(config!.exporters.get('logging/quiet')!.config, { verbosity: 'basic' });
    assert.equal(config!.exporters.get('otlp_grpc')!.type, 'otlp');
  });

  it('resolves aliases to the canonical type', () => {
    const { config, lines } = load(['connectors-valid.yaml']);
    assert.deepEqual(lines, []);
    const sm = config!.connectors.get('span_metrics')!;
    assert.equal(sm.type, 'spanmetrics');
    assert.equal(sm.factory.type, 'spanmetrics');
  });

  it('follows YAML anchors, aliases and merge keys', () => {
    const { config, lines } = load(['anchors.yaml']);
    assert.deepEqual(lines, []);
    const b = config!.exporters.get('otlp/b')!.config as { endpoint: string; timeout: number; tls: { insecure: boolean } };
    assert.deepEqual([b.endpoint, b.timeout, b.tls.insecure], ['b:4317', 1000, true]);
    assert.deepEqual(config!.service.pipelines.map((p) => p.receivers), [['otlp'], ['otlp']]);
  });

  it('validates unused components and warns that they are unused', () => {
    assert.deepEqual(load(['unused.yaml']).lines, [
      `${F}/unused.yaml:2:3: error: receivers::otlp: protocols: enable at least one of grpc, http`,
      `${F}/unused.yaml:3:3: warning: receivers::prometheus: unused: no pipeline uses it`,
      `${F}/unused.yaml:5:3: warning: processors::batch: unused: no pipeline uses it`,
      `${F}/unused.yaml:6:14: error: processors::batch: timeout: expected a duration such as 5s or 200ms, got "forever"`,
      `${F}/unused.yaml:9:3: warning: exporters::otlp/unused: unused: no pipeline uses it`,
      `${F}/unused.yaml:10:15: error: exporters::otlp/unused: endpoint: expected a non-empty string`,
      `${F}/unused.yaml:12:3: warning: connectors::forward: unused: no pipeline uses it`,
      `${F}/unused.yaml:14:3: warning: extensions::health_check: unused: not listed in service.extensions`,
    ]);
  });

  it('formats a diagnostic as file:line:column: severity: component: message', () => {
    assert.equal(formatDiagnostic({
      severity: 'error', position: { file: 'config/a.yaml', line: 12, column: 7 }, componentId: 'receivers::otlp',
      message: 'protocols.grpc.endpoint: expected a string, got a list',
    }), 'config/a.yaml:12:7: error: receivers::otlp: protocols.grpc.endpoint: expected a string, got a list');
    assert.equal(formatDiagnostic({ severity: 'warning', message: 'x' }), 'warning: x');
  });
});
