/**
 * A real OTLP/HTTP traces receiver for the tests, as a collector is one:
 * `POST /v1/traces` with an ExportTraceServiceRequest in either encoding the
 * exporters send, OTLP/JSON (`application/json`) or protobuf
 * (`application/x-protobuf`, decoded here field by field from the OTLP
 * .proto numbering), turned into spans; anything else is refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  /** The resource's service.name. */
  service: unknown;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** The content type of every export received. */
  readonly contentTypes: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = String(req.headers['content-type'] ?? '');
      this.contentTypes.push(type);
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      const body = Buffer.concat(chunks);
      if (type.startsWith('application/json')) this.spans.push(...fromJson(JSON.parse(body.toString('utf8'))));
      else if (type.startsWith('application/x-protobuf')) this.spans.push(...fromProtobuf(body));
      else return void res.writeHead(415).end();
      // An empty ExportTraceServiceResponse: full success.
      if (type.startsWith('application/json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// --- OTLP/JSON ---

/** An attribute value as OTLP/JSON encodes it. */
type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] } };
type JsonAttributes = { key: string; value: JsonValue }[] | undefined;

function jsonValue(v: JsonValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

const jsonAttributes = (list: JsonAttributes): Record<string, unknown> => Object.fromEntries((list ?? []).map((a) => [a.key, jsonValue(a.value)]));

function fromJson(body: any): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = jsonAttributes(rs.resource?.attributes)['service.name'];
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          status: s.status,
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e: { name: string; attributes?: JsonAttributes }) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          service,
        });
      }
    }
  }
  return spans;
}

// --- protobuf (opentelemetry/proto/collector/trace/v1, trace/v1, common/v1) ---

/** One field of a protobuf message: its number and its varint, fixed or length-delimited value. */
interface Field {
  no: number;
  varint?: bigint;
  bytes?: Buffer;
  fixed64?: Buffer;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    switch (key & 7) {
      case 0:
        out.push({ no, varint: varint() });
        break;
      case 1:
        out.push({ no, fixed64: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case 2: {
        const len = Number(varint());
        out.push({ no, bytes: buf.subarray(pos, pos + len) });
        pos += len;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${key & 7}`);
    }
  }
  return out;
}

const all = (fs: Field[], no: number): Field[] => fs.filter((f) => f.no === no);
const one = (fs: Field[], no: number): Field | undefined => fs.find((f) => f.no === no);
const text = (f: Field | undefined): string | undefined => f?.bytes?.toString('utf8');

/** AnyValue: string 1, bool 2, int 3, double 4, array 5 (ArrayValue: values 1). */
function anyValue(buf: Buffer): unknown {
  const fs = fields(buf);
  const f = fs[0];
  if (!f) return undefined;
  if (f.no === 1) return text(f);
  if (f.no === 2) return f.varint !== 0n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint!));
  if (f.no === 4) return f.fixed64!.readDoubleLE(0);
  if (f.no === 5) return all(fields(f.bytes!), 1).map((v) => anyValue(v.bytes!));
  return undefined;
}

/** KeyValue: key 1, value 2. */
const pbAttributes = (list: Field[]): Record<string, unknown> =>
  Object.fromEntries(list.map((kv) => fields(kv.bytes!)).map((kv) => [text(one(kv, 1)), anyValue(one(kv, 2)?.bytes ?? Buffer.alloc(0))]));

const hex = (f: Field | undefined): string | undefined => (f?.bytes && f.bytes.length > 0 ? f.bytes.toString('hex') : undefined);

/** ExportTraceServiceRequest: resource_spans 1; ResourceSpans: resource 1 (attributes 1), scope_spans 2; ScopeSpans: spans 2. */
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(fields(body), 1)) {
    const rsFields = fields(rs.bytes!);
    const resource = one(rsFields, 1);
    const service = resource ? pbAttributes(all(fields(resource.bytes!), 1))['service.name'] : undefined;
    for (const ss of all(rsFields, 2)) {
      for (const sp of all(fields(ss.bytes!), 2)) {
        // Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, attributes 9, events 11 (name 2, attributes 3), status 15 (message 2, code 3).
        const s = fields(sp.bytes!);
        const status = one(s, 15);
        const statusFields = status ? fields(status.bytes!) : [];
        spans.push({
          traceId: hex(one(s, 1))!,
          spanId: hex(one(s, 2))!,
          parentSpanId: hex(one(s, 4)),
          name: text(one(s, 5))!,
          kind: Number(one(s, 6)?.varint ?? 0n),
          status: status ? { code: Number(one(statusFields, 3)?.varint ?? 0n), message: text(one(statusFields, 2)) } : undefined,
          attributes: pbAttributes(all(s, 9)),
          events: all(s, 11).map((e) => fields(e.bytes!)).map((e) => ({ name: text(one(e, 2))!, attributes: pbAttributes(all(e, 3)) })),
          service,
        });
      }
    }
  }
  return spans;
}
