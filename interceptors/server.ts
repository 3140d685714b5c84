// The grpc-js server binding: adapts RequestVerifier to grpc-js (>= 1.10). It holds no crypto
// or policy logic of its own.
//
//   const auth = new ReqauthServer({ keys, policy });
//   const server = new grpc.Server({ interceptors: [auth.interceptor] });
//   auth.addService(server, LedgerService.service, impl);
//
// Two grpc-js facts shape it (docs/spec.md §5, §6.5):
// - interceptors see decoded messages, so `addService` swaps each method's deserializer for
//   one that keeps the exact received bytes (a RawMessage); the interceptor checks them and
//   only then runs the original deserializer;
// - grpc-js starts streaming handlers on metadata and reads are pull-based, so the
//   interceptor holds metadata until verification is done, pulling the message itself.
//
// Responses (docs/spec.md §13): for a method that signs them, the call serializes each response
// message itself, appends its tag and hands grpc-js the exact bytes through the method's
// wrapped serializer (no second serialization); the status it sends carries the end MAC. Only
// calls whose nonce the replay store accepted are signed, and only what passes through this
// interceptor: statuses grpc-js sends on its own (deadline, oversized message) go unsigned.
//
// Both halves are needed, and either alone fails closed: a service added without
// `auth.addService` is refused by the interceptor (`unwrapped_service`); `auth.addService` on
// a server without the interceptor throws at start-up, and its handlers refuse any call the
// interceptor did not pass (`interceptor_missing`).
import {
  Metadata,
  Server,
  ServerInterceptingCall,
  ServerInterceptingCallInterface,
  ServerInterceptor,
  ServerMethodDefinition,
  ServiceDefinition,
  status as Status,
  StatusObject,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  AuditEvent,
  AuditHook,
  checkCoveredNames,
  Claims,
  ENVELOPE_KEY,
  REQAUTH_METADATA_KEYS,
  HeaderVerdict,
  KeySource,
  Policy,
  ReasonCode,
  refuse,
  Refusal,
  ReplayStore,
  ReqauthConfigError,
  RequestVerifier,
  RequestVerifierOptions,
  RESPONSE_KEY,
  ResponseSigner,
  StreamVerifier,
  VerifiedHeader,
} from '../src';
import { attachClaims, getClaims, markPassed, passedPublic } from './claims';
import { statusFor } from './status';
import { annotateActiveSpan, CallTelemetry, ReqauthTelemetryOptions, Telemetry } from './telemetry';

/** The exact bytes of a received request message, before decoding. */
export class RawMessage {
  constructor(readonly bytes: Buffer) {}
}

/** A response message serialized and tagged by the call; its method's serializer passes it through. */
class SignedResponse {
  constructor(readonly bytes: Buffer) {}
}

export interface ReqauthServerOptions {
  keys: KeySource;
  policy: Policy;
  /** Where nonces are remembered (spec §6.4). Default: a MemoryReplayStore (one process). */
  replayStore?: ReplayStore;
  maxAgeMs?: number;
  maxFutureMs?: number;
  limits?: RequestVerifierOptions['limits'];
  /** Accept macaroons in the envelope (spec §11); without it, any credential is refused. */
  macaroons?: RequestVerifierOptions['macaroons'];
  /** Every decision, with its precise reason (spec §8). If it throws, the call is refused. */
  audit?: AuditHook;
  /** Where decisions go as OpenTelemetry spans and metrics (interceptors/telemetry.ts). */
  telemetry?: ReqauthTelemetryOptions;
  /**
   * A policy rule names a service that was never added through this server (every call is
   * then refused, `misconfigured`). Default: a process warning. Called once.
   */
  onConfigError?: (err: ReqauthConfigError) => void;
  /**
   * Sign the responses of every authenticated method (spec §13), not only of those whose
   * rule says `signResponses` (`sign_responses: true` in the .proto). Public methods are
   * never signed: their calls have no key. Off by default.
   */
  signResponses?: boolean;
  /**
   * Response metadata names a signed response covers (spec §13.2), looked up in the response
   * headers and in the trailers: a client then refuses a response whose values for them were
   * changed, added or removed. None by default. Not `grpc-…` names other than
   * `grpc-status-details-bin`.
   */
  signedResponseMetadata?: readonly string[];
  now?: () => number;
}

interface WrappedMethod {
  readonly deserialize: (bytes: Buffer) => unknown;
  /** Unary and server-streaming: one request message, bound by the envelope digest. */
  readonly singleMessage: boolean;
  /** The method's own response serializer, for a method whose responses are signed. */
  readonly signResponses: ((value: unknown) => Buffer) | undefined;
}

type Downstream = Parameters<ServerInterceptingCall['start']>[0];

export class ReqauthServer {
  readonly verifier: RequestVerifier;
  readonly policy: Policy;
  private readonly methods = new Map<string, WrappedMethod>();
  private readonly audit: AuditHook | undefined;
  private readonly now: () => number;
  private readonly reported = new Set<string>();
  private readonly onConfigError: (err: ReqauthConfigError) => void;
  /** The policy checked against the services added: undefined until the next call checks. */
  private policyProblem: ReqauthConfigError | null | undefined;
  private readonly signAll: boolean;
  /** @internal The response metadata names a signed response covers (§13.2). */
  readonly coveredNames: readonly string[];
  /** @internal */
  readonly telemetry: Telemetry;

  constructor(options: ReqauthServerOptions) {
    this.verifier = new RequestVerifier(options);
    this.policy = options.policy;
    this.signAll = options.signResponses === true;
    this.coveredNames = checkCoveredNames(options.signedResponseMetadata ?? []);
    this.audit = options.audit;
    this.now = options.now ?? Date.now;
    this.telemetry = new Telemetry(options.telemetry);
    this.onConfigError = options.onConfigError ?? ((err) => process.emitWarning(err.message, { code: 'REQAUTH_POLICY' }));
  }

  /**
   * Adds a service to `server`, which must have been created with this ReqauthServer's
   * interceptor (`new grpc.Server({ interceptors: [auth.interceptor] })`): each method's
   * deserializer keeps the exact received bytes for the interceptor, and each handler is
   * wrapped so that it runs only for a call the interceptor passed, and the span active when
   * it runs — the server span @opentelemetry/instrumentation-grpc starts around the handler —
   * carries the verified claims (interceptors/telemetry.ts explains why reqauth cannot reach
   * it earlier).
   *
   * @throws ReqauthConfigError if the server has no such interceptor, or if a policy rule for
   * this service names none of its methods (a misspelled method)
   */
  addService(server: Server, definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    const installed = (server as unknown as { interceptors?: unknown }).interceptors;
    if (Array.isArray(installed) && !installed.includes(this.interceptor)) {
      throw new ReqauthConfigError(
        'auth.addService: this server was created without auth.interceptor; create it with new grpc.Server({ interceptors: [auth.interceptor] })',
      );
    }
    this.policy.checkService(definition);
    this.policyProblem = undefined;
    const methods: Record<string, ServerMethodDefinition<unknown, unknown>> = {};
    const handlers: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      const m = method as ServerMethodDefinition<unknown, unknown> & { originalName?: string };
      const signs = !this.policy.isPublic(m.path) && (this.signAll || this.policy.signsResponses(m.path));
      const serialize = m.responseSerialize as (value: unknown) => Buffer;
      this.methods.set(m.path, { deserialize: m.requestDeserialize, singleMessage: !m.requestStream, signResponses: signs ? serialize : undefined });
      methods[name] = {
        ...m,
        requestDeserialize: (bytes: Buffer) => new RawMessage(bytes),
        // A signing method's messages reach grpc-js already serialized and tagged; anything
        // else would leave unsigned, so it is refused (grpc-js then ends the call INTERNAL).
        ...(signs ? { responseSerialize: (value: unknown) => (value instanceof SignedResponse ? value.bytes : this.unsignedResponse(m.path)) } : {}),
      };
      const handler = implementation[name] ?? (m.originalName ? implementation[m.originalName] : undefined);
      if (!handler) continue; // grpc-js answers UNIMPLEMENTED, as it would without reqauth
      handlers[name] = this.guardedHandler(handler, m);
    }
    server.addService(methods as unknown as ServiceDefinition, handlers);
  }

  /** Install in `new grpc.Server({ interceptors: [...] })`, last in the list (closest to handlers). */
  readonly interceptor: ServerInterceptor = (descriptor, call) => {
    const path = descriptor.path;
    if (this.policyProblem !== null && this.misconfigured()) return new MisconfiguredCall(call, this, path);
    const method = this.methods.get(path);
    if (this.policy.isPublic(path)) return new PublicCall(call, method);
    return new VerifyingCall(call, this, path, method);
  };

  private unsignedResponse(path: string): never {
    this.reportOnce('unsigned-response', `a response message of ${path} reached grpc-js without its tag`);
    throw new Error('unsigned response');
  }

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

  /**
   * @internal Records a decision: the audit hook, then telemetry. Never throws (spec §8): an
   * audit hook that throws is reported once, and the caller refuses the call rather than let
   * it through unaudited. Returns false when the hook threw. With no hook and no telemetry
   * (nothing records: Telemetry.active) there is nothing to build.
   */
  record(path: string, claims: Claims | undefined, refusal: Refusal | undefined, call: PeerOf, telemetry?: CallTelemetry, signedResponse = false): boolean {
    if (!this.audit && !telemetry) return true;
    let event: AuditEvent | undefined;
    let audited = true;
    try {
      event = { decision: refusal ? 'deny' : 'allow', reason: refusal?.reason, method: path, claims, public: false, timeMs: this.now(), peer: call.getPeer() };
      if (signedResponse) event = { ...event, signedResponse };
      this.audit?.(event);
    } catch (err) {
      this.reportOnce('audit', 'the audit hook threw', err);
      audited = false;
    }
    // An allow is traced only once audited; a refusal always. Telemetry never throws.
    if (event && (refusal || audited)) telemetry?.decided(event);
    return audited;
  }

  /**
   * @internal One process warning per kind of fault or misconfiguration, naming what is wrong
   * (an error's class at most: never its message, which could quote a secret or a payload).
   */
  reportOnce(kind: string, what: string, err?: unknown): void {
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    const cause = err === undefined ? '' : ` (${err instanceof Error ? err.name : typeof err})`;
    try {
      process.emitWarning(`reqauth: ${what}${cause}; the calls it affects are refused`, { code: 'REQAUTH_FAULT' });
    } catch {
      // a warning listener that throws changes nothing here
    }
  }

  /**
   * The user's handler, run only for a call this server's interceptor passed: one whose
   * claims it attached, or a public call it let through. Anything else means the interceptor
   * is not installed (or not this one's), and the call is refused (`interceptor_missing`).
   */
  private guardedHandler(handler: UntypedHandleCall, method: ServerMethodDefinition<unknown, unknown>): UntypedHandleCall {
    const call = handler as unknown as (call: GuardedCall, callback?: unknown) => unknown;
    const path = method.path;
    const signed = this.methods.get(path)?.signResponses !== undefined;
    const refuseUnpassed = (serverCall: GuardedCall, callback: ((err: unknown) => void) | undefined): undefined => {
      this.reportOnce('interceptor', `${path} was called without passing auth.interceptor (is it installed on this server?)`);
      const refusal = refuse('interceptor_missing');
      this.record(path, undefined, refusal, serverCall);
      const status = statusFor(refusal);
      const error = Object.assign(new Error(status.details), { code: status.code, details: status.details });
      if (callback) callback(error);
      else serverCall.emit('error', error);
      return undefined;
    };
    // Unary and client-streaming handlers get a callback; the others do not (grpc-js passes
    // exactly these arguments).
    if (!method.responseStream) {
      return ((serverCall: GuardedCall, callback: (err: unknown) => void) => {
        const claims = getClaims(serverCall);
        if (claims) {
          annotateActiveSpan(path, claims, signed);
          return call(serverCall, callback);
        }
        if (passedPublic(serverCall)) return call(serverCall, callback);
        return refuseUnpassed(serverCall, callback);
      }) as unknown as UntypedHandleCall;
    }
    return ((serverCall: GuardedCall) => {
      const claims = getClaims(serverCall);
      if (claims) {
        annotateActiveSpan(path, claims, signed);
        return call(serverCall);
      }
      if (passedPublic(serverCall)) return call(serverCall);
      return refuseUnpassed(serverCall, undefined);
    }) as unknown as UntypedHandleCall;
  }
}

/** What a decision's audit record reads the peer address from. */
interface PeerOf {
  getPeer(): string;
}

/** The call object grpc-js hands a handler, as far as the guard needs it. */
interface GuardedCall {
  readonly metadata: Metadata;
  getPeer(): string;
  emit(event: 'error', err: unknown): boolean;
}

/** Every call of a server whose policy names a service never added (`misconfigured`). */
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
        this.server.record(this.path, undefined, refusal, this.inner);
        try {
          this.inner.sendStatus(statusFor(refusal));
        } catch {
          // the call is gone already
        }
      },
      onReceiveMessage: () => undefined,
      onReceiveHalfClose: () => undefined,
      onCancel: () => undefined, // no handler was started
    });
  }
}

/**
 * A public method: no authentication (spec §7), and no reqauth metadata reaches the handler
 * (spec §4). Its messages still need decoding when its service was added through reqauth.
 */
class PublicCall extends ServerInterceptingCall {
  constructor(
    private readonly inner: ServerInterceptingCallInterface,
    private readonly method: WrappedMethod | undefined,
  ) {
    super(inner);
  }

  override start(down: Downstream): void {
    this.inner.start({
      onReceiveMetadata: (md) => {
        for (const key of REQAUTH_METADATA_KEYS) md.remove(key);
        markPassed(md);
        down.onReceiveMetadata(md);
      },
      onReceiveMessage: (message: unknown) => {
        if (!(message instanceof RawMessage)) return down.onReceiveMessage(message);
        const decoded = this.method ? decode(this.method, message.bytes) : FAILED;
        if (decoded === FAILED) this.inner.sendStatus(statusFor(refuse('malformed_message')));
        else down.onReceiveMessage(decoded);
      },
      onReceiveHalfClose: () => down.onReceiveHalfClose(),
      onCancel: () => down.onCancel(),
    });
  }
}

/**
 * One authenticated call. It is its own listener on the call below it and forwards events to
 * the handler itself, rather than through grpc-js's listener wrapper, which cannot swallow a
 * message (the end marker) without stalling the half-close behind it; and it sends straight
 * to the call below, without the responder chain of ServerInterceptingCall (whose methods it
 * inherits for everything else: a grpc-js that adds one keeps working). No closure and no
 * wrapper object per call or per message.
 */
class VerifyingCall extends ServerInterceptingCall implements Listener {
  private down: Downstream | undefined;
  private metadata: Metadata | undefined;
  private header: VerifiedHeader | undefined;
  private stream: StreamVerifier | undefined;
  /** Single-message calls: the message, held until the header is verified (then let go). */
  private pending: Buffer | undefined;
  /** Single-message calls: the message arrived. */
  private received = false;
  private released = false;
  /** Refused or cancelled: nothing more reaches the handler. */
  private done = false;
  /** The handler (or grpc-js on its behalf) sent the call's status: the call completed. */
  private statusSent = false;
  /** The read this call made for the handler before releasing its metadata (single-message calls). */
  private readAhead = false;
  private handlerCancelled = false;
  /** Undefined when nothing records telemetry (Telemetry.active). */
  private telemetry: CallTelemetry | undefined;
  /** Set once the header verified, for a method that signs its responses (§13). */
  private responses: ResponseSigner | undefined;
  /** The covered response headers, as sent (§13.2); only when names are covered. */
  private sentHeaders: Metadata | undefined;

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
    this.inner.start(this);
  }

  // ---- the listener: every step runs guarded (see fault)

  onReceiveMetadata(md: Metadata): void {
    try {
      this.onMetadata(md);
    } catch (err) {
      this.fault(err);
    }
  }

  onReceiveMessage(raw: RawMessage): void {
    try {
      this.onMessage(raw);
    } catch (err) {
      this.fault(err);
    }
  }

  onReceiveHalfClose(): void {
    try {
      this.onHalfClose();
    } catch (err) {
      this.fault(err);
    }
  }

  /**
   * grpc-js calls this when the call ends, however it ends. Before its status was sent, the
   * call was cancelled — by the client, a deadline or a closed connection — and that is
   * audited as such (`cancelled`), never as a truncation or an attack.
   */
  onCancel(): void {
    if (!this.done && !this.statusSent) {
      this.done = true;
      this.server.record(this.path, this.header?.claims, refuse('cancelled'), this.inner, this.telemetry);
    }
    this.done = true;
    this.cancelHandler();
  }

  // ---- the handler's side

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

  override sendStatus(status: StatusObject): void {
    this.statusSent = true;
    this.inner.sendStatus(this.signed(status));
  }

  /**
   * A signing call serializes the message itself, so that the tag covers exactly the bytes
   * grpc-js sends: the method's wrapped serializer passes them through (§13.1).
   */
  override sendMessage(message: unknown, callback: () => void): void {
    const responses = this.responses;
    if (!responses) return this.inner.sendMessage(message, callback);
    let tagged: Buffer;
    try {
      tagged = responses.tag(this.method!.signResponses!(message));
    } catch {
      // What grpc-js sends when a serializer throws (its own status would go unsigned).
      return this.sendStatus({ code: Status.INTERNAL, details: 'Error serializing response', metadata: new Metadata() });
    }
    this.inner.sendMessage(new SignedResponse(tagged), callback);
  }

  override sendMetadata(metadata: Metadata): void {
    if (this.responses && this.server.coveredNames.length > 0) this.sentHeaders = metadata.clone();
    this.inner.sendMetadata(metadata);
  }

  /**
   * The status with the end MAC in its trailers (§13.2), for a call whose response is signed.
   * A status that cannot be signed (a code outside 0..2^32-1) goes as it is: the client refuses it.
   */
  private signed(status: StatusObject): StatusObject {
    const responses = this.responses;
    if (!responses) return status;
    try {
      const trailers = status.metadata ? status.metadata.clone() : new Metadata();
      const names = this.server.coveredNames;
      const headers = this.sentHeaders;
      const covered =
        names.length === 0
          ? undefined
          : {
              headers: (name: string) => headers?.get(name) ?? [],
              trailers: (name: string) => trailers.get(name),
            };
      const end = responses.end({ code: status.code, details: String(status.details) }, names, covered);
      trailers.set(RESPONSE_KEY, end);
      return { ...status, metadata: trailers };
    } catch (err) {
      this.server.reportOnce('sign-status', 'a response status could not be signed', err);
      return status;
    }
  }

  // ---- verification

  private onMetadata(md: Metadata): void {
    const server = this.server;
    if (server.telemetry.active()) this.telemetry = server.telemetry.start(md);
    const method = this.method;
    if (!method) {
      server.reportOnce('unwrapped', `${this.path} belongs to a service added without auth.addService`);
      return this.refuse('unwrapped_service');
    }
    this.metadata = md;
    const singleMessage = method.singleMessage;
    const verdict = server.verifier.verifyHeader(md.get(ENVELOPE_KEY), this.path, singleMessage);
    // Pull the single request message now: its handler would only ask for it once it has
    // the metadata, which is held until the message is checked.
    if (singleMessage) {
      this.readAhead = true;
      this.inner.startRead();
    }
    if (verdict instanceof Promise) {
      verdict.then(
        (v) => {
          try {
            this.onHeader(v);
          } catch (err) {
            this.fault(err);
          }
        },
        () => this.refuse('replay_cache_unavailable'),
      );
    } else {
      this.onHeader(verdict);
    }
  }

  private onHeader(verdict: HeaderVerdict): void {
    if (this.done) return;
    if (!verdict.ok) return this.refuse(verdict.reason, verdict);
    this.header = verdict.header;
    // The nonce was accepted: this is the one delivery of the request that can run, so what
    // the server answers from here on, refusals included, is signed (§13.3).
    if (this.method!.signResponses) this.responses = verdict.header.responseSigner();
    if (this.method!.singleMessage) {
      const pending = this.pending;
      this.pending = undefined; // the handler's from here on: the call does not keep it reachable
      if (pending) this.releaseSingle(pending);
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
      if (this.released || this.received) return this.refuse('message_after_end');
      this.received = true;
      if (this.header) this.releaseSingle(raw.bytes);
      else this.pending = raw.bytes;
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
      if (!this.received) return this.refuse('missing_message');
    } else if (!this.stream!.complete) {
      // A client that cancels (or whose deadline passes) ends its side of the stream and then
      // resets it, and the reset can arrive in a later packet: grpc-js delivers a half-close,
      // then a cancel. A stream that ends without its end marker is truncated only if no
      // cancel follows within CANCEL_GRACE_MS (spec §5.2). Either way the handler never sees
      // the end of the stream; only the audited reason differs.
      setTimeout(() => {
        if (this.done) return;
        try {
          this.refuse('stream_truncated');
        } catch (err) {
          this.fault(err);
        }
      }, CANCEL_GRACE_MS).unref();
      return;
    }
    this.down!.onReceiveHalfClose();
  }

  private releaseSingle(bytes: Buffer): void {
    const bad = this.header!.checkBody(bytes);
    if (bad) return this.refuse(bad.reason, bad);
    if (this.release()) this.forward(bytes);
  }

  /** The handler may start: metadata goes down, without reqauth's own entries. */
  private release(): boolean {
    const md = this.metadata!;
    const header = this.header!;
    // An allow that cannot be audited is refused (spec §8).
    if (!this.server.record(this.path, header.claims, undefined, this.inner, this.telemetry, this.responses !== undefined)) {
      this.refuse('internal_error');
      return false;
    }
    for (const key of REQAUTH_METADATA_KEYS) md.remove(key);
    attachClaims(md, header.claims, header.delegated);
    this.released = true;
    this.down!.onReceiveMetadata(md);
    return true;
  }

  private forward(bytes: Buffer): void {
    const message = decode(this.method!, bytes);
    if (message === FAILED) return this.refuse('malformed_message');
    this.down!.onReceiveMessage(message);
  }

  /**
   * A step threw — a key source, the policy, the handler's own listener: the call is refused
   * rather than let the error escape into grpc-js, where it would take the process down.
   */
  private fault(err: unknown): void {
    this.server.reportOnce('step', 'a key source, policy or handler listener threw', err);
    this.refuse('internal_error');
  }

  /** Refuses the call. Never throws: it runs from grpc-js callbacks and promise handlers. */
  private refuse(reason: ReasonCode, refusal: Refusal = refuse(reason), claims = refusal.claims ?? this.header?.claims): void {
    if (this.done) return;
    this.done = true;
    this.server.record(this.path, claims, refusal, this.inner, this.telemetry, this.responses !== undefined);
    try {
      this.statusSent = true;
      this.inner.sendStatus(this.signed(statusFor(refusal)));
    } catch {
      // the call is gone already
    }
    // A handler already running (a request stream refused midway) learns its call is over.
    if (this.released) this.cancelHandler();
  }

  private cancelHandler(): void {
    if (this.handlerCancelled) return;
    this.handlerCancelled = true;
    try {
      this.down?.onCancel();
    } catch {
      // the handler's cancel listener threw: the call is over either way
    }
  }
}

/** The events a call below delivers (grpc-js's InterceptingServerListener). */
type Listener = Parameters<ServerInterceptingCallInterface['start']>[0];

/** How long a request stream that ended without its end marker waits for a reset (spec §5.2). */
const CANCEL_GRACE_MS = 100;

const FAILED = Symbol('decode failed');

function decode(method: WrappedMethod, bytes: Buffer): unknown {
  try {
    return method.deserialize(bytes);
  } catch {
    return FAILED;
  }
}
