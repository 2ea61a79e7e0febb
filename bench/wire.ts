// What the benches' sinks count: spans in an ExportTraceServiceRequest, by walking the wire
// format (resource_spans 1 > scope_spans 2 > spans 2) without decoding it.
import { Reader } from 'protobufjs/minimal';

export function countSpans(bytes: Uint8Array): number {
  return countNested(bytes, [1, 2, 2]);
}

function countNested(bytes: Uint8Array, path: readonly number[]): number {
  const r = Reader.create(bytes);
  let n = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === path[0] && (tag & 7) === 2) {
      const inner = r.bytes();
      n += path.length === 1 ? 1 : countNested(inner, path.slice(1));
    } else {
      r.skipType(tag & 7);
    }
  }
  return n;
}
