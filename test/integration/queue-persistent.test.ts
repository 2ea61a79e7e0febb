// The persistent sending queue with real processes on loopback: the engine runs as a child
// process (file_storage registered in-process, see queue-harness), is SIGKILLed with a queue on
// disk, started again and delivers; a damaged queue file is skipped in part, counted, delivered
// in the rest. Figures are printed as one JSON line each (RELIABILITY.md).
import * as assert from 'node:assert/strict';
import { freePort, tempDir } from '../helpers/sonde-process';
import { corruptScenario, killScenario, startChildSonde, type Launch } from './queue-harness.test';

const launch: Launch = (yaml, dir) => startChildSonde(yaml, dir);

describe('persistent queue: real processes', function () {
  this.timeout(240_000);

  it('SIGKILL with 50 000 spans queued for a dead backend: all arrive after the restart', async () => {
    const f = await killScenario(launch, tempDir('sonde-pq-kill-'), [await freePort(), await freePort()]);
    console.log(JSON.stringify(f));
    assert.equal(f.lost, 0, JSON.stringify(f));
    assert.equal(f.received, 50_000);
    // Duplicate window: batches in flight when killed (num_consumers = 10 batches of 100 spans);
    // the backend was dead, so none of them had reached it.
    assert.ok(f.duplicated <= 10 * 100, `duplicates beyond the window: ${f.duplicated}`);
    assert.equal(f.recovered_log, true);
  });

  it('a corrupt and a truncated record: skipped with a log line and a count, the rest delivered', async () => {
    const f = await corruptScenario(launch, tempDir('sonde-pq-corrupt-'), [await freePort(), await freePort()]);
    console.log(JSON.stringify(f));
    assert.equal(f.received, 9_800, JSON.stringify(f));
    assert.equal(f.missingAsExpected, true, 'exactly the two damaged batches are missing');
    assert.equal(f.duplicated, 0);
    assert.equal(f.skippedLogged, true, 'one warn line names the skipped records');
    assert.match(f.droppedSummary, /exporters::otlp traces dropped:corrupt_record=2/);
  });
});
