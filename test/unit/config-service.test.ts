// The service section: pipelines, connector rules, service.extensions, telemetry, shutdown.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { formatDiagnostic, loadConfig } from '../../pipeline/config/load';
import type { LoadedConfig } from '../../pipeline/config/types';
import { testRegistry } from '../fixtures/config/factories';

const F = path.relative(process.cwd(), path.join(__dirname, '../fixtures/config'));

function load(file: string): { config?: LoadedConfig; lines: string[] } {
  const r = loadConfig([path.join(F, file)], testRegistry(), {});
  return { config: r.config, lines: r.diagnostics.map(formatDiagnostic) };
}

describe('config service section', () => {
  it('checks pipeline ids, keys, lists, references and signals', () => {
    assert.deepEqual(load('pipeline-errors.yaml').lines, [
      `${F}/pipeline-errors.yaml:11:3: warning: exporters::otlp: unused: no pipeline uses it`,
      `${F}/pipeline-errors.yaml:15:5: error: service::pipelines::trace: unknown signal "trace" (did you mean "traces"?)`,
      `${F}/pipeline-errors.yaml:18:5: error: service::pipelines::traces/: invalid id "traces/": the name after "/" must not be empty`,
      `${F}/pipeline-errors.yaml:21:5: error: service::pipelines::traces: missing required key "receivers" (a non-empty list of ids)`,
      `${F}/pipeline-errors.yaml:22:7: error: service::pipelines::traces: unknown pipeline key "receiver" (did you mean "receivers"?)`,
      `${F}/pipeline-errors.yaml:23:18: error: service::pipelines::traces: exporters: expected at least one id`,
      `${F}/pipeline-errors.yaml:25:31: error: service::pipelines::metrics: references receiver "otlpp", which is not defined (did you mean "otlp"?)`,
      `${F}/pipeline-errors.yaml:26:27: error: service::pipelines::metrics: processor "attributes" does not support metrics (it supports traces, logs)`,
      `${F}/pipeline-errors.yaml:26:39: error: service::pipelines::metrics: processors[2]: "batch" is listed more than once`,
      `${F}/pipeline-errors.yaml:27:26: error: service::pipelines::metrics: exporters[1]: "debug" is listed more than once`,
      `${F}/pipeline-errors.yaml:27:33: error: service::pipelines::metrics: references exporter "otlp/missing", which is not defined`,
      `${F}/pipeline-errors.yaml:29:18: error: service::pipelines::logs: receivers: expected a list of ids, got "otlp"`,
      `${F}/pipeline-errors.yaml:30:27: error: service::pipelines::logs: processors[1]: expected a component id, got a list`,
      `${F}/pipeline-errors.yaml:31:7: error: service::pipelines::logs: exporters: expected at least one id`,
      `${F}/pipeline-errors.yaml:32:5: error: service::pipelines::logs/2: missing required key "receivers" (a non-empty list of ids)`,
      `${F}/pipeline-errors.yaml:32:5: error: service::pipelines::logs/2: missing required key "exporters" (a non-empty list of ids)`,
    ]);
  });

  describe('connectors', () => {
    it('join pipelines along the signal pairs they support', () => {
      const { config, lines } = load('connectors-valid.yaml');
      assert.deepEqual(lines, []);
      assert.deepEqual(config!.service.pipelines.map((p) => `${p.id}:${p.signal}`), [
        'traces/in:traces', 'traces/out:traces', 'metrics:metrics', 'logs:logs', 'logs/out:logs',
      ]);
    });

    it('must be used on both sides, with a supported pair, and be unambiguous', () => {
      assert.deepEqual(load('connector-errors.yaml').lines, [
        `${F}/connector-errors.yaml:5:3: error: receivers::forward/dup: unknown receiver type "forward"; known types: otlp, prometheus`,
        `${F}/connector-errors.yaml:14:3: error: connectors::forward/dup: ambiguous id: "forward/dup" is also defined as a receiver; rename one of them (e.g. "forward/connector")`,
        `${F}/connector-errors.yaml:19:19: error: service::pipelines::traces: connector "forward/only_exporter" is used as an exporter but no pipeline uses it as a receiver`,
        `${F}/connector-errors.yaml:19:42: error: service::pipelines::traces: connector "spanmetrics" cannot send traces to any pipeline that uses it as a receiver (logs); it connects traces -> metrics`,
        `${F}/connector-errors.yaml:21:19: error: service::pipelines::logs: connector "spanmetrics" cannot receive logs from any pipeline that uses it as an exporter (traces); it connects traces -> metrics`,
        `${F}/connector-errors.yaml:21:32: error: service::pipelines::logs: connector "forward/only_receiver" is used as a receiver but no pipeline uses it as an exporter`,
        `${F}/connector-errors.yaml:28:19: error: service::pipelines::traces/back: pipelines form a cycle through connectors: traces/loop -> forward/b -> traces/back -> forward/a -> traces/loop`,
      ]);
    });

    it('must not feed the pipeline they come from', () => {
      assert.deepEqual(load('connector-self-loop.yaml').lines, [
        `${F}/connector-self-loop.yaml:13:26: error: service::pipelines::traces: pipelines form a cycle through connectors: traces -> forward -> traces`,
      ]);
    });
  });

  it('checks service keys, service.extensions ids and the shutdown deadline', () => {
    assert.deepEqual(load('service-errors.yaml').lines, [
      `${F}/service-errors.yaml:8:3: warning: extensions::health_check: unused: not listed in service.extensions`,
      `${F}/service-errors.yaml:12:3: error: service: unknown service key "extension" (did you mean "extensions"?)`,
      `${F}/service-errors.yaml:13:16: error: service::extensions: extension "health_chek" is not defined (did you mean "health_check"?)`,
      `${F}/service-errors.yaml:13:29: error: service::extensions: extension "file_storage" is not defined (did you mean "file_storage/queue"?)`,
      `${F}/service-errors.yaml:13:63: error: service::extensions: extensions[3]: "file_storage/queue" is listed more than once`,
      `${F}/service-errors.yaml:18:21: error: service::shutdown_timeout: expected a duration such as 5s or 200ms, got "soon"`,
    ]);
  });

  describe('telemetry', () => {
    it('defaults to a Prometheus pull endpoint on 127.0.0.1:8888 and a 10s drain deadline', () => {
      const { config } = load('connectors-valid.yaml');
      assert.deepEqual(config!.service.telemetry, {
        metrics: { level: 'normal', prometheus: '127.0.0.1:8888' }, logs: { level: 'info' }, resource: {},
      });
      assert.equal(config!.service.shutdownTimeoutMs, 10_000);
    });

    it("accepts the Collector's older forms and ignores what Sonde does not implement, with warnings", () => {
      const { config, lines } = load('telemetry.yaml');
      assert.deepEqual(lines, [
        `${F}/telemetry.yaml:13:5: warning: service::telemetry: traces: "traces" is ignored: Sonde does not implement traces of itself`,
        `${F}/telemetry.yaml:17:17: warning: service::telemetry: logs.encoding: "console" is ignored: Sonde writes JSON lines`,
        `${F}/telemetry.yaml:18:7: warning: service::telemetry: logs.development: "development" is ignored: Sonde does not implement development logging`,
        `${F}/telemetry.yaml:19:7: warning: service::telemetry: logs.sampling: "sampling" is ignored: Sonde does not implement log sampling`,
        `${F}/telemetry.yaml:22:7: warning: service::telemetry: metrics.address is deprecated, use metrics.readers with a pull prometheus exporter`,
      ]);
      assert.deepEqual(config!.service.telemetry, {
        metrics: { level: 'basic', prometheus: '0.0.0.0:9999' },
        logs: { level: 'warn' },
        resource: { 'deployment.environment': 'prod' },
      });
    });

    it('reports every telemetry mistake with its key path', () => {
      assert.deepEqual(load('telemetry-errors.yaml').lines, [
        `${F}/telemetry-errors.yaml:14:14: error: service::telemetry: logs.level: expected one of debug, info, warn, error, got "verbose"`,
        `${F}/telemetry-errors.yaml:15:7: error: service::telemetry: logs.encodings: unknown key "encodings" (did you mean "encoding"?)`,
        `${F}/telemetry-errors.yaml:22:23: error: service::telemetry: metrics.readers[0].pull.exporter.prometheus.port: expected an integer from 1 to 65535, got 99999`,
        `${F}/telemetry-errors.yaml:25:15: error: service::telemetry: metrics.readers[1].periodic.exporter.otlp: missing required key "endpoint" (a non-empty string)`,
        `${F}/telemetry-errors.yaml:26:27: error: service::telemetry: metrics.readers[1].periodic.exporter.otlp.protocol: expected one of grpc, http/protobuf, got "http/json"`,
        `${F}/telemetry-errors.yaml:27:11: error: service::telemetry: metrics.readers[2]: expected exactly one of "pull" or "periodic"`,
        `${F}/telemetry-errors.yaml:28:13: error: service::telemetry: metrics.readers[2].pull.exporter: missing required key "prometheus" (a mapping)`,
        `${F}/telemetry-errors.yaml:29:15: error: service::telemetry: metrics.readers[2].pull.exporter.otlp: unknown key "otlp"; valid keys: prometheus`,
        `${F}/telemetry-errors.yaml:31:11: error: service::telemetry: metrics.readers[2].periodic: missing required key "exporter" (a mapping)`,
        `${F}/telemetry-errors.yaml:32:11: error: service::telemetry: metrics.readers[3]: expected exactly one of "pull" or "periodic"`,
        `${F}/telemetry-errors.yaml:33:5: error: service::telemetry: metric: unknown key "metric" (did you mean "metrics"?)`,
      ]);
    });

    it('wants host:port in metrics.address', () => {
      assert.deepEqual(load('telemetry-address.yaml').lines, [
        `${F}/telemetry-address.yaml:14:7: warning: service::telemetry: metrics.address is deprecated, use metrics.readers with a pull prometheus exporter`,
        `${F}/telemetry-address.yaml:14:16: error: service::telemetry: metrics.address: expected host:port, got "localhost"`,
      ]);
    });
  });
});
