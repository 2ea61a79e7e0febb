// Preloaded into Sonde (`node -r`) by bench/http-overhead's `capture` phase: every ring buffer
// batch is delivered to JavaScript as usual and then dropped, so the phase's CPU is what capture
// (the BPF programs) and delivery (poll thread, batches, the event loop) cost before any record
// is looked at: the floor under Sonde's user-space work. A measuring tool, never used otherwise.
import { BpfObject } from '../../native/index';

const open = BpfObject.prototype.openRingBuffer;
BpfObject.prototype.openRingBuffer = function openDropping(this: BpfObject, map, _onBatch, opts) {
  return open.call(this, map, () => undefined, opts);
};
