// The grpc-js client binding: adapts RequestSigner to a client interceptor. No crypto here.
//
//   const client = new LedgerService(target, channelCredentials,
//     reqauthClientOptions({ credential: parseCredential(fs.readFileSync('cred.json', 'utf8')) }));
//
// Messages are serialized once, by the interceptor, which needs the exact bytes for the
// digest or the stream tag; `callInvocationTransformer` makes the bottom of the interceptor
// chain pass those bytes through instead of serializing again (docs/spec.md §5).
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
  ClientCredential,
  CredentialSource,
  ENVELOPE_KEY,
  MacaroonPresentation,
  ON_BEHALF_OF_KEY,
  RequestSigner,
  SERVER_TIME_KEY,
  SignOptions,
  StreamSigner,
} from '../src';

export interface ReqauthClientOptions {
  /**
   * The credential: its file's content (parseCredential), a CredentialFile (reloaded without
   * a restart), or a signer to share between clients.
   */
  credential: ClientCredential | CredentialSource | RequestSigner;
  /**
   * Adopt the server's time from a clock refusal as this client's offset (spec §6.4). Only
   * over a channel you trust to reach the real server: off by default.
   */
  trustServerTime?: boolean;
}

/** Bytes the interceptor serialized; the transformer's serializer passes them through. */
class Serialized {
  constructor(readonly bytes: Buffer) {}
}

type Serialize = (value: unknown) => Buffer;
const ORIGINAL = Symbol('reqauth original serializer');
type ReqauthMethodDefinition = CallProperties<unknown, unknown>['methodDefinition'] & { [ORIGINAL]?: Serialize };

const passThrough = new WeakMap<Serialize, Serialize>();

/**
 * A message reached the serializer without passing reqauth's interceptor, so it would leave
 * unsigned (and the server would refuse it): fail the call here, saying why.
 */
function unsigned(): never {
  throw new Error(
    'reqauth: this call was not signed: the client\'s interceptors do not include reqauth\'s. Pass reqauthClientOptions(...) to the client constructor, and list its interceptors with your own: { ...options, interceptors: [...options.interceptors, yours] }',
  );
}

/**
 * The transformer that goes with one signing interceptor. It keeps the original serializer
 * aside for the interceptor and lets only what the interceptor serialized (and signed) reach
 * the wire. Per-call `interceptors` replace the client's in grpc-js; the transformer adds the
 * signing interceptor to them, last (closest to the wire, so what they change is signed).
 */
function transformerFor(signing: Interceptor): CallInvocationTransformer {
  return (props) => {
    const def = props.methodDefinition as ReqauthMethodDefinition;
    const original = def.requestSerialize as Serialize;
    let serialize = passThrough.get(original);
    if (!serialize) {
      serialize = (value) => (value instanceof Serialized ? value.bytes : unsigned());
      passThrough.set(original, serialize);
    }
    // client.js builds a fresh methodDefinition per call, so it may be amended in place.
    def[ORIGINAL] = original;
    def.requestSerialize = serialize;
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
  return { interceptors: [signing], callInvocationTransformer: transformerFor(signing) };
}

/**
 * The signing interceptor alone. It works only in a client whose `callInvocationTransformer`
 * is the one reqauthClientOptions makes; prefer that function.
 */
export function reqauthClientInterceptor(options: ReqauthClientOptions): Interceptor {
  const signer = options.credential instanceof RequestSigner ? options.credential : new RequestSigner(options.credential);
  const trustServerTime = options.trustServerTime === true;
  return (callOptions: InterceptorOptions, nextCall: NextCall) => {
    const def = callOptions.method_definition as ReqauthMethodDefinition;
    const serialize = def[ORIGINAL];
    if (!serialize) {
      throw new Error('reqauth: the client was created without reqauthClientOptions().callInvocationTransformer');
    }
    const next = nextCall(callOptions);
    const call = def.requestStream
      ? new StreamSigningCall(next, signer, def.path, serialize, trustServerTime)
      : new SingleMessageSigningCall(next, signer, def.path, serialize, trustServerTime);
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
    metadata.set(ENVELOPE_KEY, this.signer.sign(this.path, body, takeSignOptions(metadata)).value);
  }

  protected listener(listener: CallListener): CallListener {
    return this.trustServerTime ? clockListener(this.signer, listener) : listener;
  }
}

/**
 * Unary and server-streaming: hold the call's start until its one message is known, so the
 * header can carry the message's digest. grpc-js sends the message right after start, so
 * the hold lasts no longer than that.
 */
class SingleMessageSigningCall extends SigningCall {
  private held: { metadata: Metadata; listener: CallListener } | undefined;

  start(metadata: Metadata, listener: CallListener): void {
    this.held = { metadata, listener };
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    const bytes = this.serialize(message);
    const held = this.held;
    if (held) {
      this.sign(held.metadata, bytes);
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
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.next.start(held.metadata, this.listener(held.listener));
  }
}

/**
 * Client-streaming and bidi: the header goes at once (a bidi server may speak first); each
 * message carries its tag and the end marker precedes the half-close.
 */
class StreamSigningCall extends SigningCall {
  private tagger: StreamSigner | undefined;

  start(metadata: Metadata, listener: CallListener): void {
    const { header, tagger } = this.signer.signStream(this.path, takeSignOptions(metadata));
    metadata.set(ENVELOPE_KEY, header.value);
    this.tagger = tagger;
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

/** Moves the application's on-behalf-of metadata and macaroon into the envelope. */
function takeSignOptions(metadata: Metadata): SignOptions {
  const macaroon = macaroons.get(metadata);
  const values: MetadataValue[] = metadata.get(ON_BEHALF_OF_KEY);
  if (values.length === 0) return macaroon ? { macaroon } : {};
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
