// The grpc-js server binding: adapts RequestVerifier and Policy to grpc-js server
// interceptors (grpc-js >= 1.10). It holds no crypto or policy logic of its own.
//
//   const auth = new ReqauthServer({ keys, policy });
//   const server = new grpc.Server({ interceptors: [auth.interceptor] });
//   server.addService(auth.wrapService(LedgerService.service), impl);
//
// Two grpc-js facts shape it (docs/spec.md §5, §6.5):
// - interceptors see decoded messages, so `wrapService` swaps each method's deserializer for
//   one that keeps the exact received bytes (a RawMessage); the interceptor checks them and
//   only then runs the original deserializer;
// - grpc-js starts streaming handlers on metadata and reads are pull-based, so the
//   interceptor holds metadata until verification is done, pulling the message itself.
import {
  Metadata,
  Server,
  ServerInterceptingCall,
  ServerInterceptingCallInterface,
  ServerInterceptor,
  ServerMethodDefinition,
  ServiceDefinition,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  AuditEvent,
  AuditHook,
  Claims,
  ENVELOPE_KEY,
  HeaderVerdict,
  KeySource,
  Policy,
  ReasonCode,
  ReplayCache,
  ReqauthConfigError,
  refuse,
  Refusal,
  RequestVerifier,
  RequestVerifierOptions,
  StreamVerifier,
  VerifiedHeader,
} from '../src';
import { attachClaims, getClaims } from './claims';
import { statusFor } from './status';
import { annotateActiveSpan, CallTelemetry, ReqauthTelemetryOptions, Telemetry } from './telemetry';

/** The exact bytes of a received request message, before decoding. */
export class RawMessage {
  constructor(readonly bytes: Buffer) {}
}

export interface ReqauthServerOptions {
  keys: KeySource;
  policy: Policy;
  replayCache?: ReplayCache;
  maxAgeMs?: number;
  maxFutureMs?: number;
  limits?: RequestVerifierOptions['limits'];
  /** Accept macaroons in the envelope (spec §11); without it, any credential is refused. */
  macaroons?: RequestVerifierOptions['macaroons'];
  /** Every decision, with its precise reason (spec §8). */
  audit?: AuditHook;
  /** Where decisions go as OpenTelemetry spans and metrics (interceptors/telemetry.ts). */
  telemetry?: ReqauthTelemetryOptions;
  /**
   * Told once, at the first call, that the policy has a rule for a service never added
   * through this server (every call is then refused, `misconfigured`). Default: a process
   * warning on stderr.
   */
  onConfigError?: (err: ReqauthConfigError) => void;
  now?: () => number;
}

interface WrappedMethod {
  readonly deserialize: (bytes: Buffer) => unknown;
  /** Unary and server-streaming: one request message, bound by the envelope digest. */
  readonly singleMessage: boolean;
}

type Downstream = Parameters<ServerInterceptingCall['start']>[0];

export class ReqauthServer {
  readonly verifier: RequestVerifier;
  readonly policy: Policy;
  private readonly methods = new Map<string, WrappedMethod>();
  private readonly audit: AuditHook | undefined;
  private readonly now: () => number;
  private readonly onConfigError: (err: ReqauthConfigError) => void;
  /** The policy checked against the services added: undefined until the next call checks. */
  private policyProblem: ReqauthConfigError | null | undefined;
  /** @internal */
  readonly telemetry: Telemetry;

  constructor(options: ReqauthServerOptions) {
    this.verifier = new RequestVerifier(options);
    this.policy = options.policy;
    this.audit = options.audit;
    this.now = options.now ?? Date.now;
    this.telemetry = new Telemetry(options.telemetry);
    this.onConfigError = options.onConfigError ?? ((err) => process.emitWarning(err.message, { code: 'REQAUTH_POLICY' }));
  }

  /**
   * The service definition with each request deserializer replaced by one that keeps the
   * exact bytes. Pass the result to `server.addService`; the interceptor decodes.
   *
   * @throws ReqauthConfigError if a policy rule for this service names none of its methods
   */
  wrapService<D extends ServiceDefinition>(definition: D): D {
    this.policy.checkService(definition);
    this.policyProblem = undefined;
    const wrapped: Record<string, ServerMethodDefinition<unknown, unknown>> = {};
    for (const [name, method] of Object.entries(definition)) {
      const m = method as ServerMethodDefinition<unknown, unknown>;
      this.methods.set(m.path, { deserialize: m.requestDeserialize, singleMessage: !m.requestStream });
      wrapped[name] = { ...m, requestDeserialize: (bytes: Buffer) => new RawMessage(bytes) };
    }
    return wrapped as unknown as D;
  }

  /**
   * Adds a service to `server`: `wrapService(definition)` for the exact bytes, and each
   * handler wrapped so that the span active when it runs — the server span
   * @opentelemetry/instrumentation-grpc starts around the handler — carries the verified
   * claims too (interceptors/telemetry.ts explains why reqauth cannot reach it earlier).
   */
  addService(server: Server, definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    const handlers: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      const m = method as ServerMethodDefinition<unknown, unknown> & { originalName?: string };
      const handler = implementation[name] ?? (m.originalName ? implementation[m.originalName] : undefined);
      if (!handler) continue; // grpc-js answers UNIMPLEMENTED, as it would without reqauth
      handlers[name] = annotatingHandler(handler, m.path) as UntypedHandleCall;
    }
    server.addService(this.wrapService(definition), handlers);
  }

  /** Install in `new grpc.Server({ interceptors: [...] })`, last in the list (closest to handlers). */
  readonly interceptor: ServerInterceptor = (descriptor, call) => {
    const path = descriptor.path;
    if (this.policyProblem !== null && this.misconfigured()) return new MisconfiguredCall(call, this, path);
    const method = this.methods.get(path);
    if (this.policy.isPublic(path)) return method ? new PublicCall(call, method) : new ServerInterceptingCall(call);
    return new VerifyingCall(call, this, path, method);
  };

  /**
   * By the first call every service has been added, so a rule still naming none of them
   * (a misspelled service) is a broken configuration: fail closed, refuse every call, and
   * say why once. Public rules may name services added without reqauth (health checks).
   */
  private misconfigured(): boolean {
    if (this.policyProblem === undefined) {
      try {
        const added: Record<string, { path: string }> = {};
        for (const path of this.methods.keys()) added[path] = { path };
        this.policy.checkAgainst(added, { allowPublicElsewhere: true });
        this.policyProblem = null;
      } catch (err) {
        this.policyProblem = err instanceof ReqauthConfigError ? err : new ReqauthConfigError(String(err));
        try {
          this.onConfigError(this.policyProblem);
        } catch {
          // A reporter that throws must not take the call, or the process, with it.
        }
      }
    }
    return this.policyProblem !== null;
  }

  /** @internal */
  record(path: string, claims: Claims | undefined, refusal: Refusal | undefined, call: ServerInterceptingCallInterface, telemetry?: CallTelemetry): void {
    const event: AuditEvent = {
      decision: refusal ? 'deny' : 'allow',
      reason: refusal?.reason,
      method: path,
      claims,
      public: false,
      timeMs: this.now(),
      peer: call.getPeer(),
    };
    // An allow is traced only once audited: an audit hook that throws turns it into a refusal.
    try {
      this.audit?.(event);
    } finally {
      if (refusal) telemetry?.decided(event);
    }
    if (!refusal) telemetry?.decided(event);
  }
}

/** Any call to a server whose configuration is broken: refused before the handler. */
class MisconfiguredCall extends ServerInterceptingCall {
  constructor(
    private readonly inner: ServerInterceptingCallInterface,
    private readonly server: ReqauthServer,
    private readonly path: string,
  ) {
    super(inner);
  }

  override start(): void {
    this.inner.start({
      onReceiveMetadata: () => {
        const refusal = refuse('misconfigured');
        try {
          this.server.record(this.path, undefined, refusal, this.inner);
        } catch {
          // The audit hook's fault changes nothing: the call is refused either way.
        } finally {
          this.inner.sendStatus(statusFor(refusal));
        }
      },
      onReceiveMessage: () => undefined,
      onReceiveHalfClose: () => undefined,
      onCancel: () => undefined, // no handler was started
    });
  }
}

/**
 * A public method: no authentication, but its messages (if the service was wrapped) still
 * need decoding.
 */
class PublicCall extends ServerInterceptingCall {
  constructor(
    private readonly inner: ServerInterceptingCallInterface,
    private readonly method: WrappedMethod,
  ) {
    super(inner);
  }

  override start(down: Downstream): void {
    this.inner.start({
      onReceiveMetadata: (md) => down.onReceiveMetadata(md),
      onReceiveMessage: (raw: RawMessage) => {
        const message = decode(this.method, raw.bytes);
        if (message === FAILED) this.inner.sendStatus(statusFor(refuse('malformed_message')));
        else down.onReceiveMessage(message);
      },
      onReceiveHalfClose: () => down.onReceiveHalfClose(),
      onCancel: () => down.onCancel(),
    });
  }
}

/**
 * One authenticated call. It forwards events to the handler itself rather than through
 * grpc-js's listener wrapper, which cannot swallow a message (the end marker) without
 * stalling the half-close behind it.
 */
class VerifyingCall extends ServerInterceptingCall {
  private down: Downstream | undefined;
  private metadata: Metadata | undefined;
  private header: VerifiedHeader | undefined;
  private stream: StreamVerifier | undefined;
  /** Single-message calls: the message, held until the header is verified. */
  private pending: Buffer | undefined;
  private released = false;
  private done = false;
  /** The read this call made for the handler before releasing its metadata (single-message calls). */
  private readAhead = false;
  private handlerCancelled = false;
  private telemetry: CallTelemetry | undefined;

  constructor(
    private readonly inner: ServerInterceptingCallInterface,
    private readonly server: ReqauthServer,
    private readonly path: string,
    private readonly method: WrappedMethod | undefined,
  ) {
    super(inner);
  }

  override start(down: Downstream): void {
    this.down = down;
    this.inner.start({
      onReceiveMetadata: (md) => this.guard(() => this.onMetadata(md)),
      onReceiveMessage: (raw: RawMessage) => this.guard(() => this.onMessage(raw)),
      onReceiveHalfClose: () => this.guard(() => this.onHalfClose()),
      onCancel: () => {
        this.done = true;
        this.cancelHandler();
      },
    });
  }

  /**
   * The handler's first read of a single-message call is the one this call already made:
   * passing it on would only resume the HTTP/2 stream a second time (a nextTick per call).
   */
  override startRead(): void {
    if (this.readAhead) {
      this.readAhead = false;
      return;
    }
    this.inner.startRead();
  }

  private onMetadata(md: Metadata): void {
    this.telemetry = this.server.telemetry.start(md);
    if (!this.method) return this.refuse('unwrapped_service');
    this.metadata = md;
    const singleMessage = this.method.singleMessage;
    const verdict = this.server.verifier.verifyHeader(
      md.get(ENVELOPE_KEY),
      this.path,
      singleMessage,
    );
    // Pull the single request message now: its handler would only ask for it once it has
    // the metadata, which is held until the message is checked.
    if (singleMessage) {
      this.readAhead = true;
      this.inner.startRead();
    }
    if (verdict instanceof Promise) {
      verdict.then(
        (v) => this.guard(() => this.onHeader(v)),
        () => this.refuse('replay_cache_unavailable'),
      );
    } else {
      this.onHeader(verdict);
    }
  }

  private onHeader(verdict: HeaderVerdict): void {
    if (this.done) return;
    if (!verdict.ok) return this.refuse(verdict.reason, verdict);
    const decision = this.server.policy.authorize(this.path, verdict.header.claims);
    if (!decision.ok) return this.refuse(decision.reason, decision, verdict.header.claims);
    this.header = verdict.header;
    if (this.method!.singleMessage) {
      if (this.pending) this.releaseSingle(this.pending);
    } else {
      this.stream = verdict.header.streamVerifier();
      this.release();
    }
  }

  private onMessage(raw: RawMessage): void {
    if (this.done) return;
    if (!(raw instanceof RawMessage)) return this.refuse('unwrapped_service');
    if (this.method!.singleMessage) {
      // A second message is covered by no digest.
      if (this.released || this.pending) return this.refuse('message_after_end');
      this.pending = raw.bytes;
      if (this.header) this.releaseSingle(raw.bytes);
      return;
    }
    const opened = this.stream!.open(raw.bytes);
    if (!opened.ok) return this.refuse(opened.reason);
    if (opened.end) {
      // The end marker is not the handler's: ask for the next event (the half-close) in
      // place of the read the handler is waiting on.
      this.inner.startRead();
      return;
    }
    this.forward(opened.body);
  }

  private onHalfClose(): void {
    if (this.done) return;
    if (this.method!.singleMessage) {
      if (!this.pending) return this.refuse('missing_message');
    } else if (!this.stream!.complete) {
      return this.refuse('stream_truncated');
    }
    this.down!.onReceiveHalfClose();
  }

  private releaseSingle(bytes: Buffer): void {
    const bad = this.header!.checkBody(bytes);
    if (bad) return this.refuse(bad.reason, bad);
    this.release();
    this.forward(bytes);
  }

  /** The handler may start: metadata goes down, without reqauth's own entries. */
  private release(): void {
    const md = this.metadata!;
    const claims = this.header!.claims;
    md.remove(ENVELOPE_KEY);
    attachClaims(md, claims, this.header!.delegated);
    this.released = true;
    this.server.record(this.path, claims, undefined, this.inner, this.telemetry);
    this.down!.onReceiveMetadata(md);
  }

  private forward(bytes: Buffer): void {
    const message = decode(this.method!, bytes);
    if (message === FAILED) return this.refuse('malformed_message');
    this.down!.onReceiveMessage(message);
  }

  /**
   * Runs one step of the call. Anything that throws — a key source, the policy, the
   * handler's own listener, the audit hook — refuses the call rather than escaping into
   * grpc-js, where it would take the process down.
   */
  private guard(step: () => void): void {
    try {
      step();
    } catch {
      this.refuse('internal_error');
    }
  }

  private refuse(reason: ReasonCode, refusal: Refusal = refuse(reason), claims = refusal.claims ?? this.header?.claims): void {
    if (this.done) return;
    this.done = true;
    try {
      this.server.record(this.path, claims, refusal, this.inner, this.telemetry);
    } finally {
      this.inner.sendStatus(statusFor(refusal));
      // A handler already running (a request stream refused midway) learns its call is over.
      if (this.released) this.cancelHandler();
    }
  }

  private cancelHandler(): void {
    if (this.handlerCancelled) return;
    this.handlerCancelled = true;
    this.down?.onCancel();
  }
}

/** A handler that first records the verified claims on the span active around it. */
function annotatingHandler(handler: UntypedHandleCall, path: string): (...args: unknown[]) => unknown {
  const call = handler as unknown as (...args: unknown[]) => unknown;
  return function (this: unknown, ...args: unknown[]) {
    const claims = getClaims(args[0] as { metadata: Metadata });
    if (claims) annotateActiveSpan(path, claims);
    return call.apply(this, args);
  };
}

const FAILED = Symbol('decode failed');

function decode(method: WrappedMethod, bytes: Buffer): unknown {
  try {
    return method.deserialize(bytes);
  } catch {
    return FAILED;
  }
}
