// The ready Kafka configs validate with the CLI as a user runs it, and the older single-topic
// form of a Collector user's file loads with deprecation warnings that point at the key.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, runSonde, tempDir } from '../helpers/sonde-process';

describe('e2e: kafka configs', () => {
  for (const file of ['config/gateway.yaml', 'config/kafka-fanout.yaml']) {
    it(`sonde validate --config ${file}`, async () => {
      const r = await runSonde(['validate', '--config', path.join(ROOT, file)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /valid: .* \(3 pipelines\)/);
      assert.doesNotMatch(r.stderr, /warning/i, 'no warnings in a file we ship');
    });
  }

  it('accepts the deprecated top-level topic/encoding with warnings at file:line:column', async () => {
    const file = path.join(tempDir('kafka-cfg-'), 'old.yaml');
    fs.writeFileSync(file, [
      'receivers:',
      '  kafka:',
      '    brokers: [kafka:9092]',
      '    topic: spans',
      '    encoding: otlp_json',
      'exporters:',
      '  kafka/out:',
      '    brokers: kafka:9092',
      '    traces: { topic: spans2, encoding: zipkin_json }',
      'service:',
      '  pipelines:',
      '    traces: { receivers: [kafka], exporters: [kafka/out] }',
      '',
    ].join('\n'));
    const r = await runSonde(['validate', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:5: .*"topic" is deprecated`));
    assert.match(r.stderr, /old\.yaml:5:5: .*"encoding" is deprecated/);
    assert.match(r.stderr, /old\.yaml:9:\d+: .*encoding "zipkin_json" is not supported by Sonde; use otlp_proto or otlp_json/);
  });
});
