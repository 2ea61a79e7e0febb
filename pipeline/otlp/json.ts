// OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions), driven by the schema in
// schema.ts so no field list is written twice:
// - keys are lowerCamelCase (snake_case is accepted on decode, as protobuf JSON parsers do);
// - traceId/spanId/parentSpanId are hex, other bytes base64;
// - 64-bit integers are decimal strings on encode, strings or numbers on decode;
// - enums are integers on encode, integers or names on decode;
// - unknown keys are ignored; proto3 defaults are omitted on encode.
// Decode builds the same generated message classes that protobuf decode builds, with Long for
// 64-bit fields and Buffer for bytes, so a JSON request and a protobuf request compare equal.
// Not a hot path (OTLP/JSON is the slow, debuggable encoding): a reflective walk with per-type
// plans computed once.
import * as protobuf from 'protobufjs';
import Long from 'long';
import { PermanentError } from '../errors';

type Kind = 'string' | 'bool' | 'double' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bytes' | 'hex' | 'enum' | 'message';

interface FieldPlan {
  readonly name: string;
  readonly kind: Kind;
  readonly repeated: boolean;
  /** Member of a oneof or a proto3 `optional`: emitted when set, even to its default. */
  readonly presence: boolean;
  /** For kind 'hex': the id length in bytes. */
  readonly hexBytes: number;
  readonly enumValues: Readonly<Record<string, number>> | undefined;
  message: TypePlan | undefined;
  readonly messageType: protobuf.Type | undefined;
}

interface TypePlan {
  readonly type: protobuf.Type;
  readonly fields: FieldPlan[];
  /** camelCase and snake_case keys -> field. */
  readonly byKey: Map<string, FieldPlan>;
}

type Obj = Record<string, unknown>;
type Ctor = new () => Obj;

// OTLP ids are the only bytes fields written as hex.
const HEX_IDS: Readonly<Record<string, number>> = { traceId: 16, spanId: 8, parentSpanId: 8 };

const plans = new Map<protobuf.Type, TypePlan>();

function kindOf(f: protobuf.Field): Kind {
  if (f.resolvedType instanceof protobuf.Type) return 'message';
  if (f.resolvedType instanceof protobuf.Enum) return 'enum';
  switch (f.type) {
    case 'string': return 'string';
    case 'bool': return 'bool';
    case 'double': case 'float': return 'double';
    case 'int32': case 'sint32': case 'sfixed32': return 'int32';
    case 'uint32': case 'fixed32': return 'uint32';
    case 'int64': case 'sint64': case 'sfixed64': return 'int64';
    case 'uint64': case 'fixed64': return 'uint64';
    case 'bytes': return HEX_IDS[f.name] !== undefined ? 'hex' : 'bytes';
    default: throw new Error(`otlp json: unsupported field type ${f.type} (${f.fullName})`);
  }
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function planFor(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (plan) return plan;
  plan = { type, fields: [], byKey: new Map() };
  plans.set(type, plan); // before recursing: AnyValue <-> KeyValue are mutually recursive
  // Encode in field-number order, as protobuf does, so output is stable.
  const sorted = [...type.fieldsArray].sort((a, b) => a.id - b.id);
  for (const f of sorted) {
    f.resolve();
    const kind = kindOf(f);
    const fp: FieldPlan = {
      name: f.name,
      kind,
      repeated: f.repeated,
      presence: f.partOf != null,
      hexBytes: HEX_IDS[f.name] ?? 0,
      enumValues: f.resolvedType instanceof protobuf.Enum ? f.resolvedType.values : undefined,
      message: undefined,
      messageType: f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined,
    };
    plan.fields.push(fp);
    plan.byKey.set(f.name, fp);
    plan.byKey.set(snake(f.name), fp);
  }
  for (const fp of plan.fields) if (fp.messageType) fp.message = planFor(fp.messageType);
  return plan;
}

function fail(path: string, what: string): never {
  throw new PermanentError(`${path || '<root>'}: ${what}`);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

// ---- decode -----------------------------------------------------------------------------------

// Invalid UTF-8 is bad data, as in the protobuf decoder: never silently replaced by U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses OTLP/JSON text into a message of `type`; throws PermanentError naming the bad field. */
export function decodeJson(type: protobuf.Type, text: string | Uint8Array): Obj {
  let src: string;
  try {
    src = typeof text === 'string' ? text : utf8.decode(text);
  } catch (err) {
    throw new PermanentError('invalid JSON: the body is not valid UTF-8', { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(src);
  } catch (err) {
    throw new PermanentError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    return decodeMessage(planFor(type), parsed, '', 0);
  } catch (err) {
    throw asPermanent(err);
  }
}

// Hostile nesting (AnyValue in AnyValue ...) is cut at the depth protobufjs (and protoc) allow
// for binary messages, so both encodings accept the same data; anything else unexpected (a stack
// overflow) is bad data too.
const MAX_DEPTH = protobuf.util.recursionLimit ?? 100;

function asPermanent(err: unknown): PermanentError {
  if (err instanceof PermanentError) return err;
  return new PermanentError(`malformed OTLP/JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function decodeMessage(plan: TypePlan, json: unknown, path: string, depth: number): Obj {
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} messages`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(path, 'expected an object');
  const msg = new (plan.type.ctor as unknown as Ctor)();
  const src = json as Obj;
  for (const key of Object.keys(src)) {
    const f = plan.byKey.get(key);
    const v = src[key];
    if (!f || v === null || v === undefined) continue; // unknown fields are ignored; null = default
    const p = join(path, f.name);
    if (f.repeated) {
      if (!Array.isArray(v)) fail(p, 'expected an array');
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = decodeValue(f, v[i], `${p}[${i}]`, depth);
      msg[f.name] = out;
      continue;
    }
    const value = decodeValue(f, v, p, depth);
    // Scalars equal to their proto3 default stay on the prototype, as protobuf decode leaves
    // them when the sender omits them; oneof/optional members record presence.
    if (!f.presence && isDefault(f.kind, value)) continue;
    msg[f.name] = value;
  }
  return msg;
}

function isDefault(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'message': return false;
    case 'int64': case 'uint64': return (v as Long).isZero();
    case 'bytes': case 'hex': return (v as Uint8Array).length === 0;
    default: return v === 0 || v === '' || v === false;
  }
}

function decodeValue(f: FieldPlan, v: unknown, p: string, depth: number): unknown {
  switch (f.kind) {
    case 'message': return decodeMessage(f.message as TypePlan, v, p, depth + 1);
    case 'string':
      if (typeof v !== 'string') fail(p, 'expected a string');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') fail(p, 'expected true or false');
      return v;
    case 'double': return toDouble(v, p);
    case 'int32': return toInt32(v, p, false);
    case 'uint32': return toInt32(v, p, true);
    case 'int64': return toLong(v, p, false);
    case 'uint64': return toLong(v, p, true);
    case 'enum': {
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'string') {
        const n = (f.enumValues as Record<string, number>)[v];
        if (n !== undefined) return n;
        fail(p, `unknown enum value ${JSON.stringify(v)}`);
      }
      return fail(p, 'expected an enum integer or name');
    }
    case 'hex': {
      if (typeof v !== 'string') fail(p, `expected ${f.hexBytes * 2} hex characters`);
      const b = Buffer.from(v, 'hex');
      // Buffer.from stops at the first non-hex pair, so a length check catches bad characters too.
      if ((v.length !== 0 && v.length !== f.hexBytes * 2) || b.length * 2 !== v.length) {
        fail(p, `expected ${f.hexBytes * 2} hex characters`);
      }
      return b;
    }
    case 'bytes':
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) fail(p, 'expected base64');
      return Buffer.from(v, 'base64');
  }
}

function toDouble(v: unknown, p: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  return fail(p, 'expected a number');
}

function toInt32(v: unknown, p: string, unsigned: boolean): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(p, 'expected an integer');
  if (unsigned ? n < 0 || n > 0xffffffff : n < -0x80000000 || n > 0x7fffffff) fail(p, 'integer out of 32-bit range');
  return n;
}

function toLong(v: unknown, p: string, unsigned: boolean): Long {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || (unsigned && v < 0)) fail(p, unsigned ? 'expected an unsigned integer' : 'expected an integer');
    return Long.fromNumber(v, unsigned);
  }
  if (typeof v === 'string' && (unsigned ? /^\d{1,20}$/ : /^-?\d{1,20}$/).test(v)) {
    const l = Long.fromString(v, unsigned, 10);
    // Long.fromString wraps silently on overflow: a round trip detects it.
    const canonical = v.replace(/^(-?)0+(?=\d)/, '$1').replace(/^-0$/, '0');
    if (l.toString() !== canonical) fail(p, 'integer out of 64-bit range');
    return l;
  }
  return fail(p, unsigned ? 'expected an unsigned integer (string or number)' : 'expected an integer (string or number)');
}

// ---- encode -----------------------------------------------------------------------------------

/** Encodes a message (decoded or hand-built) as one line of OTLP/JSON. */
export function encodeJson(type: protobuf.Type, msg: object): string {
  const parts: string[] = [];
  try {
    encodeMessage(planFor(type), msg as Obj, '', parts, 0);
  } catch (err) {
    throw asPermanent(err);
  }
  return parts.join('');
}

const hasOwn = Object.prototype.hasOwnProperty;

function encodeMessage(plan: TypePlan, msg: Obj, path: string, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} messages`);
  if (typeof msg !== 'object' || msg === null) fail(path, 'expected an object');
  out.push('{');
  let first = true;
  for (const f of plan.fields) {
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      if (!Array.isArray(v)) fail(join(path, f.name), 'expected an array');
      if (v.length === 0) continue;
      out.push(first ? `"${f.name}":[` : `,"${f.name}":[`);
      first = false;
      const p = join(path, f.name);
      for (let i = 0; i < v.length; i++) {
        if (i) out.push(',');
        encodeValue(f, v[i], `${p}[${i}]`, out, depth);
      }
      out.push(']');
      continue;
    }
    if (f.presence) {
      // Unset oneof members of decoded messages sit on the prototype with default values.
      if (!hasOwn.call(msg, f.name)) continue;
    } else if (f.kind !== 'message' && isDefaultLoose(f.kind, v)) {
      continue;
    }
    out.push(first ? `"${f.name}":` : `,"${f.name}":`);
    first = false;
    encodeValue(f, v, join(path, f.name), out, depth);
  }
  out.push('}');
}

function isDefaultLoose(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'int64': case 'uint64':
      return Long.isLong(v) ? (v as Long).isZero() : v === 0 || v === '0';
    case 'bytes': case 'hex':
      return (v as Uint8Array).length === 0;
    default:
      return v === 0 || v === '' || v === false;
  }
}

function encodeValue(f: FieldPlan, v: unknown, p: string, out: string[], depth: number): void {
  switch (f.kind) {
    case 'message': encodeMessage(f.message as TypePlan, v as Obj, p, out, depth + 1); return;
    case 'string':
      if (typeof v !== 'string') fail(p, 'expected a string');
      out.push(JSON.stringify(v));
      return;
    case 'bool': out.push(v ? 'true' : 'false'); return;
    case 'double': {
      const n = Number(v);
      out.push(Number.isFinite(n) ? String(n) : Number.isNaN(n) ? '"NaN"' : n > 0 ? '"Infinity"' : '"-Infinity"');
      return;
    }
    case 'int32': case 'uint32': {
      const n = Number(v);
      if (!Number.isFinite(n)) fail(p, 'expected an integer');
      out.push(String(Math.trunc(n)));
      return;
    }
    case 'enum': {
      const n = typeof v === 'string' ? (f.enumValues as Record<string, number>)[v] : v;
      if (typeof n !== 'number') fail(p, 'expected an enum value');
      out.push(String(n));
      return;
    }
    case 'int64': case 'uint64': {
      let s: string;
      if (Long.isLong(v)) {
        // A hand-built signed Long in an unsigned field: print it as the unsigned value it encodes.
        s = f.kind === 'uint64' ? (v as Long).toUnsigned().toString() : (v as Long).toSigned().toString();
      } else if (typeof v === 'number') {
        if (!Number.isFinite(v)) fail(p, 'expected an integer');
        s = String(Math.trunc(v));
      } else if (typeof v === 'string' && /^-?\d+$/.test(v)) {
        s = v;
      } else {
        return fail(p, 'expected a Long, number or decimal string');
      }
      out.push(`"${s}"`);
      return;
    }
    case 'hex': case 'bytes': {
      if (!(v instanceof Uint8Array)) fail(p, 'expected bytes (Uint8Array)');
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      out.push(`"${b.toString(f.kind === 'hex' ? 'hex' : 'base64')}"`);
      return;
    }
  }
}
