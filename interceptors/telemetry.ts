// OpenTelemetry for the server binding (issue 5): every decision the interceptor makes goes
// on a span and into two metrics, through `@opentelemetry/api` only. Without an SDK the
// API's no-ops stand in, so a service that does not use OpenTelemetry pays next to nothing.
//
// Why reqauth starts its own span, and where it sits in the trace:
//
// - `@opentelemetry/instrumentation-grpc` (0.2xx) starts its server span in its wrapper of
//   the *handler*, parented from `propagation.extract(ROOT_CONTEXT, call.metadata)`. A call
//   the interceptor refuses never reaches the handler, so it would leave no server span at
//   all; and on an allowed call that span does not exist yet when reqauth decides, nor can
//   reqauth reach it afterwards (on unary calls it ends before the response comes back
//   through the interceptor). Writing to `trace.getActiveSpan()` in the interceptor would
//   be wrong: whatever is active there belongs to the connection, not to this call.
// - So reqauth starts a span `reqauth.verify <method>` per decision, parented from the trace
//   context the client propagated in the request metadata (the globally registered
//   propagator, W3C `traceparent` by default). Client and server spans of a refused call
//   therefore share one trace.
// - A refusal: the span is the call's only server-side span, so its kind is SERVER, with
//   status ERROR and the stable reason code as the status message.
// - An allow: the handler will run, and the handler's span (the instrumentation's, or the
//   service's own) is the call's server span; reqauth's is a step before it, so INTERNAL.
//   Before releasing the call, reqauth writes its span's context into the metadata handed
//   to the handler, so the instrumentation's server span (and everything the handler
//   traces) is reqauth's span's child. Services added with ReqauthServer.addService also
//   get the attributes on the instrumentation's span itself: a wrapper around each handler
//   sets them on the span active when the handler runs (annotateActiveSpan).
// - A request stream can be refused after it was allowed (a bad tag, a truncated stream):
//   that refusal is a second span, INTERNAL, child of the first.
//
// The span covers the verification: from the call's metadata arriving to the decision.
// Attributes are `auditAttributes(event)` (src/audit/attributes.ts): claims and stable codes,
// never a key, MAC, tag, nonce or macaroon signature.
import {
  Attributes,
  Context,
  Counter,
  createNoopMeter,
  Histogram,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  Meter,
  MeterProvider,
  metrics,
  propagation,
  ProxyTracer,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  TextMapGetter,
  TextMapSetter,
  trace,
  Tracer,
} from '@opentelemetry/api';
import { Metadata } from '@grpc/grpc-js';
import { ATTR, auditAttributes, AuditEvent, Claims } from '../src';

export interface ReqauthTelemetryOptions {
  /** Default: `trace.getTracer('reqauth')` from the global API (a no-op without an SDK). */
  tracer?: Tracer;
  /**
   * Default: `metrics.getMeter('reqauth')` from the global API, looked up again whenever the
   * global meter provider changes (the metrics API, unlike tracing, has no proxy: a meter
   * taken before the SDK registers would stay a no-op forever).
   */
  meter?: Meter;
}

export const TRACER_NAME = 'reqauth';
/** Counter: one per decision, by decision, reason and method. */
export const DECISIONS_METRIC = 'reqauth.decisions';
/** Histogram, seconds: from the call's metadata arriving to its allow or refusal. */
export const DURATION_METRIC = 'reqauth.verification.duration';

/** Verification takes from tens of microseconds (a cached key) to the request's arrival. */
const DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const values = md.get(key).filter((v): v is string => typeof v === 'string');
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

const metadataSetter: TextMapSetter<Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

/** Epoch milliseconds with sub-millisecond precision, for span times. */
const ORIGIN = performance.timeOrigin;
const clock = (): number => ORIGIN + performance.now();

interface Instruments {
  readonly decisions: Counter;
  readonly duration: Histogram;
}

/** What the API's proxy hands out while no tracer provider is registered. */
const UNREGISTERED_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/** @internal One per ReqauthServer. */
export class Telemetry {
  private readonly tracer: Tracer;
  /**
   * The API's proxy provider behind the default tracer: that tracer records once the proxy
   * has a delegate (an SDK registered), and never before. Undefined when the tracer was given
   * or is an SDK's already: it may record.
   */
  private readonly proxy: ProxyTracerProvider | undefined;
  /** A tracer or meter was given: always record. */
  private readonly fixed: boolean;
  private readonly fixedMeter: Meter | undefined;
  private provider: MeterProvider | undefined;
  private instruments: Instruments | undefined;
  /** The global meter provider last looked at, and whether it is the API's no-op. */
  private probedMeterProvider: MeterProvider | undefined;
  private probedNoopMeter = true;
  /**
   * Metric attributes by method, then by reason ('' for an allow): a bounded set (grpc-js
   * only runs interceptors for registered methods), each built once.
   */
  private readonly metricAttributes = new Map<string, Map<string, Attributes>>();

  constructor(options: ReqauthTelemetryOptions = {}) {
    const provider = trace.getTracerProvider();
    this.tracer = options.tracer ?? provider.getTracer(TRACER_NAME);
    this.proxy = !options.tracer && provider instanceof ProxyTracerProvider && this.tracer instanceof ProxyTracer ? provider : undefined;
    this.fixedMeter = options.meter;
    this.fixed = options.tracer !== undefined || options.meter !== undefined;
  }

  /**
   * Whether anything would record a decision: a tracer or meter given, or an SDK's provider
   * registered with the API. Without one, the binding skips telemetry (and the audit event, if
   * it has no audit hook either): a span nobody records, and the trace context it would hand
   * down, which is the one the call already carries.
   */
  active(): boolean {
    if (this.fixed || !this.proxy || this.proxy.getDelegate() !== UNREGISTERED_TRACER_PROVIDER) return true;
    const provider = metrics.getMeterProvider();
    if (provider !== this.probedMeterProvider) {
      this.probedMeterProvider = provider;
      this.probedNoopMeter = provider.getMeter(TRACER_NAME) === createNoopMeter();
    }
    return !this.probedNoopMeter;
  }

  /** The call's metadata arrived: verification starts now. */
  start(metadata: Metadata): CallTelemetry {
    return new CallTelemetry(this, metadata, clock());
  }

  /** @internal */
  startSpan(name: string, kind: SpanKind, startTime: number, parent: Context): Span {
    return this.tracer.startSpan(name, { kind, startTime }, parent);
  }

  /** @internal */
  measure(event: AuditEvent, seconds: number | undefined): void {
    const { decisions, duration } = this.currentInstruments();
    const attributes = this.attributesFor(event);
    decisions.add(1, attributes);
    if (seconds !== undefined) duration.record(seconds, attributes);
  }

  private currentInstruments(): Instruments {
    if (this.fixedMeter) return (this.instruments ??= createInstruments(this.fixedMeter));
    const provider = metrics.getMeterProvider();
    if (provider !== this.provider || !this.instruments) {
      this.provider = provider;
      this.instruments = createInstruments(provider.getMeter(TRACER_NAME));
    }
    return this.instruments;
  }

  /** Decision, reason and method only: principals and users would make the series unbounded. */
  private attributesFor(event: AuditEvent): Attributes {
    let byReason = this.metricAttributes.get(event.method);
    if (!byReason) this.metricAttributes.set(event.method, (byReason = new Map()));
    const key = event.decision === 'allow' ? '' : (event.reason ?? 'denied');
    let attributes = byReason.get(key);
    if (!attributes) {
      const all = auditAttributes({ ...event, claims: undefined });
      attributes = {};
      for (const name of [ATTR.decision, ATTR.reason, ATTR.method, ATTR.rpcSystem, ATTR.rpcService, ATTR.rpcMethod]) {
        if (all[name] !== undefined) attributes[name] = all[name];
      }
      byReason.set(key, attributes);
    }
    return attributes;
  }
}

function createInstruments(meter: Meter): Instruments {
  return {
    decisions: meter.createCounter(DECISIONS_METRIC, {
      description: 'Requests reqauth allowed or refused, by decision, reason and method.',
      unit: '{decision}',
    }),
    duration: meter.createHistogram(DURATION_METRIC, {
      description: "Time from a call's metadata arriving to reqauth's decision on it.",
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
}

/** @internal The telemetry of one call: one span per decision, and its metrics. */
export class CallTelemetry {
  /** The allow span and its parent, once there is one: a later refusal of the stream is its child. */
  private allowed: { readonly span: Span; readonly parent: Context } | undefined;

  constructor(
    private readonly telemetry: Telemetry,
    private readonly metadata: Metadata,
    private readonly startTime: number,
  ) {}

  /**
   * Records a decision. On an allow, the metadata about to be handed to the handler carries
   * the new span's context from here on. Never throws: telemetry must not change a decision.
   */
  decided(event: AuditEvent): void {
    try {
      this.record(event);
    } catch {
      // A faulty tracer or meter loses its own data, not the call.
    }
  }

  private record(event: AuditEvent): void {
    const now = clock();
    const first = this.allowed === undefined;
    const deny = event.decision === 'deny';
    const parent = this.allowed
      ? trace.setSpan(this.allowed.parent, this.allowed.span)
      : propagation.extract(ROOT_CONTEXT, this.metadata, metadataGetter);
    const kind = deny && first ? SpanKind.SERVER : SpanKind.INTERNAL;
    const span = this.telemetry.startSpan(`reqauth.verify ${event.method}`, kind, first ? this.startTime : now, parent);
    if (span.isRecording()) {
      span.setAttributes(auditAttributes(event));
      // The reason is a stable code (errors.ts), not a secret.
      if (deny) span.setStatus({ code: SpanStatusCode.ERROR, message: event.reason ?? 'denied' });
    }
    span.end(now);
    if (!deny) {
      this.allowed = { span, parent };
      // Without an SDK (and no trace context received) the span is the API's invalid no-op:
      // nothing to hand down, and checked by identity first, as the validity check is not free.
      const sc = span.spanContext();
      if (sc !== INVALID_SPAN_CONTEXT && isSpanContextValid(sc)) propagation.inject(trace.setSpan(parent, span), this.metadata, metadataSetter);
    }
    // A later refusal of an allowed stream is not a verification latency.
    this.telemetry.measure(event, first ? (now - this.startTime) / 1000 : undefined);
  }
}

/**
 * Records an allowed call's claims on the span active where this runs: used inside the
 * handler (ReqauthServer.addService), where the active span is the handler's server span.
 * Without `reqauth.decision`: the decision is reqauth's own span's, and the audit store keeps
 * one row per decision by storing only spans that carry it. Nothing is built unless a span
 * records (without an SDK this is one lookup); never throws.
 */
export function annotateActiveSpan(method: string, claims: Claims, signedResponse = false): void {
  try {
    const span = trace.getActiveSpan();
    if (!span?.isRecording()) return;
    const attributes = auditAttributes({ decision: 'allow', reason: undefined, method, claims, public: false, timeMs: 0, peer: undefined, signedResponse });
    delete attributes[ATTR.decision];
    delete attributes[ATTR.reason];
    span.setAttributes(attributes as Attributes);
  } catch {
    // telemetry never changes what a call does
  }
}
