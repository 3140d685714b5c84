// The grpc-js client binding: adapts RequestSigner to a client interceptor. No crypto here.
//
//   const client = new LedgerService(target, channelCredentials,
//     reqauthClientOptions({ credential: parseCredential(fs.readFileSync('cred.json', 'utf8')) }));
//
// Messages are serialized once, by the interceptor, which needs the exact bytes for the
// digest or the stream tag; `callInvocationTransformer` makes the bottom of the interceptor
// chain pass those bytes through instead of serializing again (docs/spec.md §5).
//
// A call that requires signed responses (`requireSignedResponses`, spec §13.4) is the mirror
// image: the transformer makes the bottom of the chain hand up each response's exact bytes
// instead of decoding them, and the interceptor's listener checks each message's tag before it
// decodes it and passes it on, and the call's end before it passes on the status. What does
// not verify never reaches the application: the call fails with DATA_LOSS.
import { Span, trace } from '@opentelemetry/api';
import {
  CallInvocationTransformer,
  CallProperties,
  ClientOptions,
  InterceptingCall,
  Interceptor,
  InterceptorOptions,
  Metadata,
  MetadataValue,
  NextCall,
  status as Status,
  StatusObject,
} from '@grpc/grpc-js';
import {
  ATTR,
  ClientCredential,
  CredentialSource,
  ENVELOPE_KEY,
  MacaroonPresentation,
  ON_BEHALF_OF_KEY,
  ReasonCode,
  refuse,
  RequestSigner,
  RESPONSE_KEY,
  ResponseAuditEvent,
  ResponseAuditHook,
  ResponseVerifier,
  SERVER_TIME_KEY,
  SignOptions,
  StreamSigner,
} from '../src';
import { statusFor } from './status';

export interface ReqauthClientOptions {
  /**
   * The credential: its file's content (parseCredential), a CredentialFile (reloaded without
   * a restart), or a signer to share between clients.
   */
  credential: ClientCredential | CredentialSource | RequestSigner;
  /**
   * Adopt the server's time from a clock refusal as this client's offset (spec §6.4). Only
   * over a channel you trust to reach the real server: off by default. Never on calls that
   * require signed responses: a clock refusal is never signed.
   */
  trustServerTime?: boolean;
  /**
   * Require signed responses (spec §13): `true` for every call, or the method paths (exact,
   * or `/pkg.Service/*`) that must have them; `signedResponseMethods(definition)` lists those
   * whose `.proto` rule says `sign_responses: true`. Such a call fails with DATA_LOSS, and the
   * application receives nothing unverified, when a response message or the call's end is
   * missing, altered, reordered, truncated or from another call; so does a call the server
   * refused before it could sign (§13.3), and one to a server that does not sign. Off by default.
   */
  requireSignedResponses?: boolean | readonly string[];
  /**
   * The verdict on each response that had to be signed, with its precise reason (the
   * application only sees DATA_LOSS). Also recorded on the client span, if there is one. A hook
   * that throws on a verified response fails the call (INTERNAL): fail closed, as the server's.
   */
  audit?: ResponseAuditHook;
}

/** Bytes the interceptor serialized; the transformer's serializer passes them through. */
class Serialized {
  constructor(readonly bytes: Buffer) {}
}

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;
const ORIGINAL = Symbol('reqauth original serializer');
/** Set on the calls that require signed responses: the response deserializer, kept aside. */
const ORIGINAL_DESERIALIZE = Symbol('reqauth original deserializer');
type ReqauthMethodDefinition = CallProperties<unknown, unknown>['methodDefinition'] & { [ORIGINAL]?: Serialize; [ORIGINAL_DESERIALIZE]?: Deserialize };

/** The bottom of a verifying call's chain hands the response bytes up as they arrived. */
const keepBytes: Deserialize = (bytes) => bytes;

/** Which calls require signed responses, from `requireSignedResponses`; undefined: none. */
function signedResponsesRequired(option: ReqauthClientOptions['requireSignedResponses']): ((path: string) => boolean) | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return () => true;
  const exact = new Set<string>();
  const services = new Set<string>();
  for (const path of option) {
    if (!/^\/[^/]+\/[^/]+$/.test(path)) throw new Error(`reqauth: requireSignedResponses: "${path}" is not "/pkg.Service/Method" or "/pkg.Service/*"`);
    if (path.endsWith('/*')) services.add(path.slice(0, -1));
    else exact.add(path);
  }
  // Asked twice per call (transformer, interceptor): the answer per path is kept, a few
  // hundred paths at most (a client's methods), so no string is cut per call.
  const known = new Map<string, boolean>();
  return (path) => {
    let required = known.get(path);
    if (required === undefined) {
      required = exact.has(path) || services.has(path.slice(0, path.lastIndexOf('/') + 1));
      if (known.size < 4096) known.set(path, required);
    }
    return required;
  };
}

/**
 * A message reached the serializer without passing reqauth's interceptor, so it would leave
 * unsigned (and the server would refuse it): fail the call here, saying why.
 */
function unsigned(): never {
  throw new Error(
    'reqauth: this call was not signed: the client\'s interceptors do not include reqauth\'s. Pass reqauthClientOptions(...) to the client constructor, and list its interceptors with your own: { ...options, interceptors: [...options.interceptors, yours] }',
  );
}

/** The bottom of a signing call's chain sends what the interceptor serialized and signed, nothing else. */
const passThrough: Serialize = (value) => (value instanceof Serialized ? value.bytes : unsigned());

/**
 * The transformer that goes with one signing interceptor. It keeps the original serializer
 * aside for the interceptor and lets only what the interceptor serialized (and signed) reach
 * the wire. Per-call `interceptors` replace the client's in grpc-js; the transformer adds the
 * signing interceptor to them, last (closest to the wire, so what they change is signed).
 */
function transformerFor(signing: Interceptor, signedResponses: ((path: string) => boolean) | undefined): CallInvocationTransformer {
  return (props) => {
    const def = props.methodDefinition as ReqauthMethodDefinition;
    // client.js builds a fresh methodDefinition per call, so it may be amended in place.
    def[ORIGINAL] = def.requestSerialize as Serialize;
    def.requestSerialize = passThrough;
    if (signedResponses?.(def.path)) {
      def[ORIGINAL_DESERIALIZE] = def.responseDeserialize as Deserialize;
      def.responseDeserialize = keepBytes;
    }
    const callOptions = props.callOptions;
    if (callOptions.interceptors && callOptions.interceptors.length > 0 && !callOptions.interceptors.includes(signing)) {
      props.callOptions = { ...callOptions, interceptors: [...callOptions.interceptors, signing] };
    } else if (callOptions.interceptor_providers && callOptions.interceptor_providers.length > 0) {
      props.callOptions = { ...callOptions, interceptor_providers: [...callOptions.interceptor_providers, () => signing] };
    }
    return props;
  };
}

/**
 * Options for a grpc-js client constructor: the signing interceptor and the transformer it
 * depends on. Spread them into your own options; to add interceptors of your own, list
 * reqauth's with them (`interceptors: [...options.interceptors, yours]`). Interceptors passed
 * per call are composed with reqauth's automatically.
 */
export function reqauthClientOptions(options: ReqauthClientOptions): Pick<ClientOptions, 'interceptors' | 'callInvocationTransformer'> {
  const signing = reqauthClientInterceptor(options);
  return { interceptors: [signing], callInvocationTransformer: transformerFor(signing, signedResponsesRequired(options.requireSignedResponses)) };
}

/**
 * The signing interceptor alone. It works only in a client whose `callInvocationTransformer`
 * is the one reqauthClientOptions makes; prefer that function.
 */
export function reqauthClientInterceptor(options: ReqauthClientOptions): Interceptor {
  const signer = options.credential instanceof RequestSigner ? options.credential : new RequestSigner(options.credential);
  const trustServerTime = options.trustServerTime === true;
  const audit = options.audit;
  const required = signedResponsesRequired(options.requireSignedResponses);
  return (callOptions: InterceptorOptions, nextCall: NextCall) => {
    const def = callOptions.method_definition as ReqauthMethodDefinition;
    const serialize = def[ORIGINAL];
    if (!serialize) {
      throw new Error('reqauth: the client was created without reqauthClientOptions().callInvocationTransformer');
    }
    const next = nextCall(callOptions);
    const deserialize = def[ORIGINAL_DESERIALIZE];
    // Fail closed: a requirement this interceptor was given but its transformer was not.
    if (!deserialize && required?.(def.path)) {
      throw new Error('reqauth: requireSignedResponses needs the callInvocationTransformer of reqauthClientOptions(...) made with the same options');
    }
    // The span active as the call starts is the client span of @opentelemetry/instrumentation-grpc,
    // if it is installed: the response's verdict is recorded there.
    const responses = deserialize ? new ResponseCheck(def.path, deserialize, def.responseStream, trace.getActiveSpan(), audit) : undefined;
    const call = def.requestStream
      ? new StreamSigningCall(next, signer, def.path, serialize, trustServerTime, responses)
      : new SingleMessageSigningCall(next, signer, def.path, serialize, trustServerTime, responses);
    // grpc-js types an interceptor's result as its InterceptingCall class, but uses only the
    // InterceptingCallInterface (client-interceptors.ts). A direct implementation skips the
    // requester and listener wrappers InterceptingCall adds to every call.
    return call as unknown as InterceptingCall;
  };
}

type NextInterceptingCall = ReturnType<NextCall>;
type CallListener = Parameters<NextInterceptingCall['start']>[1];
type MessageContext = Parameters<NextInterceptingCall['sendMessageWithContext']>[0];

/** Everything a signing call passes through unchanged. */
abstract class SigningCall {
  constructor(
    protected readonly next: NextInterceptingCall,
    protected readonly signer: RequestSigner,
    protected readonly path: string,
    protected readonly serialize: Serialize,
    private readonly trustServerTime: boolean,
    /** Set when the call requires signed responses. */
    protected readonly responses: ResponseCheck | undefined,
  ) {}

  getPeer(): string {
    return this.next.getPeer();
  }

  startRead(): void {
    this.next.startRead();
  }

  getAuthContext(): ReturnType<NextInterceptingCall['getAuthContext']> {
    return this.next.getAuthContext();
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  abstract sendMessageWithContext(context: MessageContext, message: unknown): void;

  protected sign(metadata: Metadata, body: Buffer): void {
    const options = takeSignOptions(metadata);
    if (this.responses) {
      const signed = this.signer.signWithResponses(this.path, body, options);
      metadata.set(ENVELOPE_KEY, signed.header.value);
      this.responses.verifier = signed.responses;
    } else {
      metadata.set(ENVELOPE_KEY, this.signer.sign(this.path, body, options).value);
    }
  }

  /**
   * The listener below the application's: the response check, or the clock. A call that
   * requires signed responses never adopts a server time: clock refusals are never signed
   * (spec §13.3), so the time would come from an unverified status — exactly what an attacker
   * would forge to have this client date its requests ahead (spec §6.4).
   */
  protected listener(listener: CallListener): CallListener {
    if (this.responses) return this.responses.listener(listener, this.next);
    return this.trustServerTime ? clockListener(this.signer, listener) : listener;
  }
}

/**
 * Unary and server-streaming: hold the call's start until its one message is known, so the
 * header can carry the message's digest. grpc-js sends the message right after start, so
 * the hold lasts no longer than that.
 */
class SingleMessageSigningCall extends SigningCall {
  /** The held start, until the message comes (or the call ends without one). */
  private heldMetadata: Metadata | undefined;
  private heldListener: CallListener | undefined;

  start(metadata: Metadata, listener: CallListener): void {
    this.heldMetadata = metadata;
    this.heldListener = listener;
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    const bytes = this.serialize(message);
    if (this.heldMetadata) {
      this.sign(this.heldMetadata, bytes);
      this.releaseStart(); // start goes down before its message
    }
    this.next.sendMessageWithContext(context, new Serialized(bytes));
  }

  halfClose(): void {
    this.releaseStart(); // no message was sent: the server refuses the call (missing_message)
    this.next.halfClose();
  }

  cancelWithStatus(status: Status, details: string): void {
    this.releaseStart(); // otherwise the cancellation status has no listener to reach
    this.next.cancelWithStatus(status, details);
  }

  private releaseStart(): void {
    const metadata = this.heldMetadata;
    if (!metadata) return;
    const listener = this.heldListener;
    this.heldMetadata = undefined;
    this.heldListener = undefined;
    this.next.start(metadata, this.listener(listener));
  }
}

/**
 * Client-streaming and bidi: the header goes at once (a bidi server may speak first); each
 * message carries its tag and the end marker precedes the half-close.
 */
class StreamSigningCall extends SigningCall {
  private tagger: StreamSigner | undefined;

  start(metadata: Metadata, listener: CallListener): void {
    const options = takeSignOptions(metadata);
    if (this.responses) {
      const signed = this.signer.signWithResponses(this.path, undefined, options);
      metadata.set(ENVELOPE_KEY, signed.header.value);
      this.tagger = signed.tagger;
      this.responses.verifier = signed.responses;
    } else {
      const { header, tagger } = this.signer.signStream(this.path, options);
      metadata.set(ENVELOPE_KEY, header.value);
      this.tagger = tagger;
    }
    this.next.start(metadata, this.listener(listener));
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    this.next.sendMessageWithContext(context, new Serialized(this.tagger!.tagMessage(this.serialize(message))));
  }

  halfClose(): void {
    this.next.sendMessageWithContext({}, new Serialized(this.tagger!.endMarker()));
    this.next.halfClose();
  }

  cancelWithStatus(status: Status, details: string): void {
    this.next.cancelWithStatus(status, details);
  }
}

const macaroons = new WeakMap<Metadata, MacaroonPresentation>();

/**
 * Metadata that presents a macaroon with the call (spec §11), by default proving possession
 * of its signature without sending it:
 *
 *     client.transfer(req, presentMacaroon({ root, discharges, presentation: 'possession' }), callback);
 */
export function presentMacaroon(presentation: MacaroonPresentation, metadata = new Metadata()): Metadata {
  macaroons.set(metadata, presentation);
  return metadata;
}

const NO_SIGN_OPTIONS: SignOptions = Object.freeze({});

/** Moves the application's on-behalf-of metadata and macaroon into the envelope. */
function takeSignOptions(metadata: Metadata): SignOptions {
  const macaroon = macaroons.get(metadata);
  const values: MetadataValue[] = metadata.get(ON_BEHALF_OF_KEY);
  if (values.length === 0) return macaroon ? { macaroon } : NO_SIGN_OPTIONS;
  metadata.remove(ON_BEHALF_OF_KEY);
  if (values.length !== 1 || typeof values[0] !== 'string') throw new Error(`reqauth: ${ON_BEHALF_OF_KEY} must be one string`);
  return macaroon ? { onBehalfOf: values[0], macaroon } : { onBehalfOf: values[0] };
}

/**
 * Metadata naming the user a call is made for:
 *
 *     client.getBalance(req, onBehalfOf('alice'), callback);
 */
export function onBehalfOf(user: string, metadata = new Metadata()): Metadata {
  metadata.set(ON_BEHALF_OF_KEY, user);
  return metadata;
}

function clockListener(signer: RequestSigner, listener: CallListener): CallListener {
  return {
    onReceiveMetadata: (metadata) => listener?.onReceiveMetadata?.(metadata),
    onReceiveMessage: (message) => listener?.onReceiveMessage?.(message),
    onReceiveStatus(status: StatusObject) {
      if (status.code === Status.UNAUTHENTICATED) {
        const [value] = status.metadata.get(SERVER_TIME_KEY);
        const serverTime = typeof value === 'string' ? Number(value) : NaN;
        if (Number.isSafeInteger(serverTime)) signer.adoptServerTime(serverTime);
      }
      listener?.onReceiveStatus?.(status);
    },
  };
}

/**
 * Statuses a requiring client passes on without a signature (spec §13.4): the transport makes
 * them itself (the application's cancellation, its deadline, a connection that failed or
 * dropped), anyone on the path can cause them by cutting the connection, and none of them
 * asserts an outcome. Every other unsigned status is refused.
 */
const OUTCOME_UNKNOWN: ReadonlySet<number> = new Set([Status.CANCELLED, Status.DEADLINE_EXCEEDED, Status.UNAVAILABLE]);

/**
 * The response side of a call that requires signed responses (spec §13.4). Each message's tag
 * is checked before it is decoded; a response stream's messages are passed up as they verify,
 * and the status only once the call's end verified. A single response (unary,
 * client-streaming) waits for the end with its headers, so that nothing above this
 * interceptor sees it unverified (grpc-js hands it to the application only with the status
 * anyway). On the first failure the call is cancelled and ends with the client's own status;
 * nothing more is passed up.
 */
class ResponseCheck {
  /** Set when the call is signed; a call that never was (no message to sign) verifies nothing. */
  verifier: ResponseVerifier | undefined;
  private failure: ReasonCode | undefined;
  private headers: Metadata | undefined;
  /** A single response, verified and decoded, held until the end verifies. */
  private held: { readonly message: unknown } | undefined;

  constructor(
    private readonly path: string,
    private readonly deserialize: Deserialize,
    private readonly responseStream: boolean,
    private readonly span: Span | undefined,
    private readonly audit: ResponseAuditHook | undefined,
  ) {}

  listener(up: CallListener, next: NextInterceptingCall): CallListener {
    return {
      onReceiveMetadata: (metadata) => {
        if (this.failure) return;
        this.headers = metadata;
        if (this.responseStream) up?.onReceiveMetadata?.(metadata);
      },
      onReceiveMessage: (message: unknown) => {
        if (this.failure) return;
        // grpc-js's unary bottom call reports "no message" as null, just before the status.
        if (message === null && !this.responseStream) return up?.onReceiveMessage?.(null);
        const opened = Buffer.isBuffer(message) && this.verifier ? this.verifier.open(message) : undefined;
        if (!opened?.ok) return this.fail(opened?.reason ?? 'missing_response_tag', next);
        let decoded: unknown;
        try {
          decoded = this.deserialize(opened.body);
        } catch {
          return this.fail('malformed_response', next); // as grpc-js fails a message it cannot parse
        }
        if (this.responseStream) return up?.onReceiveMessage?.(decoded);
        this.held = { message: decoded };
        // grpc-js reads a single response once and holds an OK status until every message
        // was read: read on, so that a message added after it is refused rather than left
        // unread with the call waiting for its deadline.
        next.startRead();
      },
      onReceiveStatus: (status) => {
        if (this.failure) return up?.onReceiveStatus?.(this.refused(this.failure, status.code));
        const trailers = status.metadata;
        const headers = this.headers;
        const verdict = this.verifier
          ? this.verifier.end({ code: status.code, details: status.details }, trailers.get(RESPONSE_KEY), {
              headers: (name) => headers?.get(name) ?? [],
              trailers: (name) => trailers.get(name),
            })
          : ({ ok: false, reason: 'missing_response_end' } as const);
        if (verdict.ok) {
          // A verified OK must bring a single-response call its one message (spec §13.4).
          if (!this.responseStream && status.code === Status.OK && !this.held) return up?.onReceiveStatus?.(this.refused('malformed_response', status.code));
          if (!this.record('verified', undefined, status.code)) return up?.onReceiveStatus?.(statusFor(refuse('internal_error')));
          trailers.remove(RESPONSE_KEY);
          if (!this.responseStream) {
            if (headers) up?.onReceiveMetadata?.(headers);
            if (this.held) up?.onReceiveMessage?.(this.held.message);
          }
          return up?.onReceiveStatus?.(status);
        }
        if (verdict.reason === 'missing_response_end' && OUTCOME_UNKNOWN.has(status.code)) {
          // Passed on as the code it is, without the unauthenticated trailers.
          this.record('unverified', verdict.reason, status.code);
          return up?.onReceiveStatus?.({ code: status.code, details: status.details, metadata: new Metadata() });
        }
        up?.onReceiveStatus?.(this.refused(verdict.reason, status.code));
      },
    };
  }

  /** Refuses the rest of the call: the status that follows the cancellation is the client's own. */
  private fail(reason: ReasonCode, next: NextInterceptingCall): void {
    this.failure = reason;
    next.cancelWithStatus(Status.CANCELLED, 'response refused');
  }

  private refused(reason: ReasonCode, receivedCode: number): StatusObject {
    this.record('refused', reason, receivedCode);
    return statusFor(refuse(reason));
  }

  /**
   * The verdict on the client span and to the audit hook. Telemetry never changes what the
   * call does; a hook that throws returns false, and a verified response is then refused.
   */
  private record(verdict: ResponseAuditEvent['verdict'], reason: ReasonCode | undefined, receivedCode: number): boolean {
    try {
      if (this.span?.isRecording()) {
        this.span.setAttribute(ATTR.response, verdict);
        if (reason) this.span.setAttribute(ATTR.responseReason, reason);
      }
    } catch {
      // a faulty span loses its attribute, not the call
    }
    if (!this.audit) return true;
    try {
      this.audit({ method: this.path, verdict, reason, receivedCode });
      return true;
    } catch (err) {
      reportHookFault(err);
      return false;
    }
  }
}

let hookFaultReported = false;

/** Once per process, naming the error's class only (never its message: spec §8). */
function reportHookFault(err: unknown): void {
  if (hookFaultReported) return;
  hookFaultReported = true;
  try {
    const cause = err instanceof Error ? err.name : typeof err;
    process.emitWarning(`reqauth: the client's response audit hook threw (${cause}); the responses it affects are refused`, { code: 'REQAUTH_FAULT' });
  } catch {
    // a warning listener that throws changes nothing here
  }
}
