// A stand-in for Jaeger's OTLP/HTTP port, for tests: a node:http server on loopback that
// accepts `POST /v1/traces` as protobuf (application/x-protobuf, the exporters' default
// and what Jaeger ingests) or JSON (application/json), and decodes it on its own — with
// protobufjs and the OTLP trace messages below, not with OpenTelemetry's own serializer —
// so a test checks the bytes a collector would receive, not the SDK's view of them.
//
//   const receiver = await startOtlpReceiver();
//   // exporter url: `${receiver.url}/v1/traces`
//   receiver.spans   // every span received, flattened
//   receiver.bodies  // the raw request bodies
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as protobuf from 'protobufjs';

/**
 * The OTLP messages a trace export carries (opentelemetry-proto, collector/trace/v1,
 * trace/v1, common/v1, resource/v1), with their field numbers; one package here, which the
 * wire format does not see. Fields reqauth's tests do not read are omitted (skipped as unknown).
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }

message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  repeated Event events = 11;
  repeated Link links = 13;
  Status status = 15;

  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; }
}

message Status { string message = 2; int32 code = 3; }

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
`;

const root = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root;
const ExportTraceServiceRequest = root.lookupType('otlp.ExportTraceServiceRequest');

export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;

/** OTLP span kinds (trace.proto SpanKind). */
export const OTLP_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP status codes (trace.proto Status.StatusCode). */
export const OTLP_STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly scope: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly status: { readonly code: number; readonly message: string };
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, AttributeValue>> }[];
  readonly links: readonly { readonly traceId: string; readonly spanId: string; readonly attributes: Readonly<Record<string, AttributeValue>> }[];
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`; the exporter's url is `${url}/v1/traces`. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Every request body, as received. */
  readonly bodies: { readonly contentType: string; readonly body: Buffer }[];
  /** Resolves once at least `count` spans arrived (or rejects after `timeoutMs`). */
  waitForSpans(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: { contentType: string; body: Buffer }[] = [];
  const waiters: (() => void)[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      bodies.push({ contentType, body });
      try {
        if (contentType === 'application/x-protobuf') {
          spans.push(...fromProtobuf(body));
          // An empty ExportTraceServiceResponse: zero bytes.
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.alloc(0));
        } else if (contentType === 'application/json') {
          spans.push(...fromJson(JSON.parse(body.toString('utf8')) as JsonRequest));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          res.writeHead(415).end();
          return;
        }
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
        return;
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    async waitForSpans(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (spans.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`OTLP receiver: ${spans.length} spans after ${timeoutMs} ms, expected ${count}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ------------------------------------------------------------------ protobuf

interface PbKeyValue {
  key: string;
  value?: PbAnyValue;
}
interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: protobuf.Long | number;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] };
  kvlistValue?: { values?: PbKeyValue[] };
  bytesValue?: Uint8Array;
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  attributes?: PbKeyValue[];
  status?: { message?: string; code?: number };
  events?: { name: string; attributes?: PbKeyValue[] }[];
  links?: { traceId: Uint8Array; spanId: Uint8Array; attributes?: PbKeyValue[] }[];
}
interface PbRequest {
  resourceSpans?: { resource?: { attributes?: PbKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: PbSpan[] }[] }[];
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const request = ExportTraceServiceRequest.decode(body) as unknown as PbRequest;
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = pbAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          scope: ss.scope?.name ?? '',
          attributes: pbAttributes(s.attributes),
          resource,
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: pbAttributes(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: pbAttributes(l.attributes) })),
        });
      }
    }
  }
  return out;
}

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

function pbAttributes(list: PbKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) out[kv.key] = pbValue(kv.value);
  return out;
}

/** The oneof member actually present: protobufjs reads absent scalars as their defaults. */
function pbValue(v: PbAnyValue | undefined): AttributeValue {
  const has = (field: keyof PbAnyValue) => v !== undefined && Object.prototype.hasOwnProperty.call(v, field);
  if (has('stringValue')) return v!.stringValue!;
  if (has('boolValue')) return v!.boolValue!;
  if (has('intValue')) return Number(v!.intValue!.toString());
  if (has('doubleValue')) return v!.doubleValue!;
  if (has('arrayValue')) return (v!.arrayValue!.values ?? []).map(pbValue);
  if (has('kvlistValue')) return pbAttributes(v!.kvlistValue!.values);
  if (has('bytesValue')) return Buffer.from(v!.bytesValue!).toString('base64');
  return null;
}

// ------------------------------------------------------------------ JSON (OTLP/JSON: hex ids, enum numbers)

interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: JsonKeyValue[];
  status?: { message?: string; code?: number };
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  links?: { traceId: string; spanId: string; attributes?: JsonKeyValue[] }[];
}
interface JsonRequest {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[] }[];
}

function fromJson(request: JsonRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind,
          scope: ss.scope?.name ?? '',
          attributes: jsonAttributes(s.attributes),
          resource,
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: jsonAttributes(l.attributes) })),
        });
      }
    }
  }
  return out;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) out[kv.key] = jsonValue(kv.value);
  return out;
}

function jsonValue(v: JsonAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(jsonValue);
  if (v.kvlistValue !== undefined) return jsonAttributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}
