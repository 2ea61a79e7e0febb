// Acceptance through `sonde run`: a raw OTLP/gRPC client sends 20 000 spans to Sonde (otlp ->
// batch -> otlp exporter) while the backend port is dead for 20 s; then a real OTLP/gRPC server
// (grpc-js + the codec) starts on that port: every span arrives, none twice. No restart, so no
// duplicate is allowed. Prints the figures as one JSON line (RELIABILITY.md).
import * as assert from 'node:assert/strict';
import { outageScenario, type Launch } from '../integration/queue-harness.test';
import { freePort, startSonde, tempDir } from '../helpers/sonde-process';

const launch: Launch = (yaml, dir) => startSonde(yaml, { dir });

describe('e2e delivery: backend down for 20 s', function () {
  this.timeout(240_000);

  it('20 000 spans sent during the outage all arrive once the backend is up, none twice', async () => {
    const f = await outageScenario(launch, tempDir('sonde-outage-'), [await freePort(), await freePort()]);
    console.log(JSON.stringify(f));
    assert.equal(f.received, 20_000, JSON.stringify(f));
    assert.equal(f.lost, 0);
    assert.equal(f.duplicated, 0);
  });
});
