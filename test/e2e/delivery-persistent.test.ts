// Acceptance through `sonde run` with a persistent queue (file_storage): SIGKILL with 50 000
// spans queued for a dead backend, restart, all arrive; a corrupt/truncated queue file is
// skipped in part (logged, counted) and the rest delivered. The same scenarios run against an
// in-process registry in test/integration/queue-persistent.test.ts.
import * as assert from 'node:assert/strict';
import { corruptScenario, killScenario, type Launch } from '../integration/queue-harness.test';
import { freePort, startSonde, tempDir } from '../helpers/sonde-process';

/** `sonde run`, failing with one clear line while components.ts does not list file_storage. */
const launch: Launch = async (yaml, dir) => {
  try {
    return await startSonde(yaml, { dir });
  } catch (err) {
    if (/file_storage/.test(String(err)) && /unknown|not a known|did you mean/i.test(String(err))) {
      throw new Error('unknown extension type file_storage: components.ts must list fileStorageExtensionFactory (extensions/file_storage)');
    }
    throw err;
  }
};

describe('e2e delivery: persistent queue', function () {
  this.timeout(240_000);

  it('SIGKILL with 50 000 spans queued for a dead backend: all arrive after the restart, duplicates within the window', async () => {
    const f = await killScenario(launch, tempDir('sonde-e2e-kill-'), [await freePort(), await freePort()]);
    console.log(JSON.stringify(f));
    assert.equal(f.lost, 0, JSON.stringify(f));
    assert.ok(f.duplicated <= 10 * 100, `duplicates beyond the window (num_consumers batches in flight): ${f.duplicated}`);
  });

  it('a truncated/corrupt queue file: starts, reports what it skipped, delivers the rest', async () => {
    const f = await corruptScenario(launch, tempDir('sonde-e2e-corrupt-'), [await freePort(), await freePort()]);
    console.log(JSON.stringify(f));
    assert.equal(f.received, 9_800, JSON.stringify(f));
    assert.equal(f.missingAsExpected, true, 'exactly the two damaged batches are missing');
    assert.equal(f.skippedLogged, true);
    assert.match(f.droppedSummary, /dropped:corrupt_record=2/);
  });
});
