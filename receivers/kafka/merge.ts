// Many OTLP protobuf requests of one signal as one request, by rewriting bytes (no decode). A
// partition keyed by trace id carries about one span per message, each with its own copy of the
// same resource and scope: decoded one by one, every message costs a request's objects and the
// exporter downstream writes the resource again for every span. Merged, resource entries with the
// same resource and schema_url bytes become one entry, and inside it scope entries with the same
// scope and schema_url bytes one; items keep their order within each. The data is the same OTLP
// data (the same items under the same resources and scopes).
//
// The three signals share the layout this walks: request { 1: resource entry }, resource entry
// { 1: resource, 2: scope entry, 3: schema_url }, scope entry { 1: scope, 2: item, 3: schema_url }.
// Anything else (another field, a repeated resource, a bad length) returns undefined, and the
// caller delivers the messages one by one as before.

interface ScopeGroup { head: [number, number, number]; schema: [number, number, number] | undefined; items: number[] }
interface ResourceGroup { head: [number, number, number] | undefined; schema: [number, number, number] | undefined; scopes: Map<string, ScopeGroup>; order: ScopeGroup[] }

class Bad extends Error {}

let buf: Buffer = Buffer.alloc(0);
let pos = 0;

function varint(): number {
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) throw new Bad();
    const b = buf[pos++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v;
  }
  throw new Bad();
}

/** After a length-delimited tag: the end of the field's body, checked against `end`. */
function body(end: number): number {
  const n = varint();
  if (pos + n > end) throw new Bad();
  return pos + n;
}

function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** The merged request, or undefined when some message is not in the shared layout. */
export function mergeRequests(values: readonly Buffer[]): Buffer | undefined {
  // Pieces are [message index, start, end) ranges (tag and length included) in the input buffers.
  const groups = new Map<string, ResourceGroup>();
  const order: ResourceGroup[] = [];
  try {
    for (let v = 0; v < values.length; v++) {
      buf = values[v]!;
      pos = 0;
      const end = buf.length;
      while (pos < end) {
        if (buf[pos++] !== 0x0a) throw new Bad();
        const rsEnd = body(end);
        let head: [number, number, number] | undefined;
        let schema: [number, number, number] | undefined;
        const scopes: { head: [number, number, number] | undefined; schema: [number, number, number] | undefined; items: number[] }[] = [];
        while (pos < rsEnd) {
          const at = pos;
          const tag = buf[pos++];
          if (tag === 0x0a) {
            if (head) throw new Bad();
            pos = body(rsEnd);
            head = [v, at, pos];
          } else if (tag === 0x1a) {
            if (schema) throw new Bad();
            pos = body(rsEnd);
            schema = [v, at, pos];
          } else if (tag === 0x12) {
            const ssEnd = body(rsEnd);
            let sHead: [number, number, number] | undefined;
            let sSchema: [number, number, number] | undefined;
            const items: number[] = [];
            while (pos < ssEnd) {
              const a = pos;
              const t = buf[pos++];
              if (t !== 0x0a && t !== 0x12 && t !== 0x1a) throw new Bad();
              pos = body(ssEnd);
              if (t === 0x12) items.push(v, a, pos);
              else if (t === 0x0a) { if (sHead) throw new Bad(); sHead = [v, a, pos]; }
              else { if (sSchema) throw new Bad(); sSchema = [v, a, pos]; }
            }
            scopes.push({ head: sHead, schema: sSchema, items });
          } else {
            throw new Bad();
          }
        }
        const rKey = keyOf(values, head, schema);
        let g = groups.get(rKey);
        if (!g) {
          g = { head, schema, scopes: new Map(), order: [] };
          groups.set(rKey, g);
          order.push(g);
        }
        for (const s of scopes) {
          const sKey = keyOf(values, s.head, s.schema);
          let sg = g.scopes.get(sKey);
          if (!sg) {
            sg = { head: s.head ?? [v, 0, 0], schema: s.schema, items: [] };
            g.scopes.set(sKey, sg);
            g.order.push(sg);
          }
          for (let i = 0; i < s.items.length; i++) sg.items.push(s.items[i]!);
        }
      }
    }
  } catch (err) {
    if (err instanceof Bad) return undefined;
    throw err;
  } finally {
    buf = Buffer.alloc(0);
  }
  return write(values, order);
}

function keyOf(values: readonly Buffer[], head: [number, number, number] | undefined, schema: [number, number, number] | undefined): string {
  const h = head ? values[head[0]]!.toString('latin1', head[1], head[2]) : '';
  return schema ? `${h}\u0100${values[schema[0]]!.toString('latin1', schema[1], schema[2])}` : h;
}

const len = (p: [number, number, number] | undefined): number => (p ? p[2] - p[1] : 0);

function write(values: readonly Buffer[], order: ResourceGroup[]): Buffer {
  const rsBodies: number[] = [];
  const ssBodies: number[] = [];
  let total = 0;
  for (const g of order) {
    let rs = len(g.head) + len(g.schema);
    for (const s of g.order) {
      let ss = len(s.head) + len(s.schema);
      for (let i = 0; i < s.items.length; i += 3) ss += s.items[i + 2]! - s.items[i + 1]!;
      ssBodies.push(ss);
      rs += 1 + varintLen(ss) + ss;
    }
    rsBodies.push(rs);
    total += 1 + varintLen(rs) + rs;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  let si = 0;
  const put = (v: number): void => {
    while (v > 127) { out[at++] = (v & 127) | 128; v >>>= 7; }
    out[at++] = v;
  };
  const copy = (p: [number, number, number] | undefined): void => {
    if (p && p[2] > p[1]) at += values[p[0]]!.copy(out, at, p[1], p[2]);
  };
  for (let r = 0; r < order.length; r++) {
    const g = order[r]!;
    out[at++] = 0x0a;
    put(rsBodies[r]!);
    copy(g.head);
    for (const s of g.order) {
      out[at++] = 0x12;
      put(ssBodies[si++]!);
      copy(s.head);
      const it = s.items;
      for (let i = 0; i < it.length; i += 3) at += values[it[i]!]!.copy(out, at, it[i + 1]!, it[i + 2]!);
      copy(s.schema);
    }
    copy(g.schema);
  }
  return out;
}
