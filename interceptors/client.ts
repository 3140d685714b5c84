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
  Listener,
  Metadata,
  MetadataValue,
  NextCall,
  Requester,
  status as Status,
  StatusObject,
} from '@grpc/grpc-js';
import { ClientCredential, ON_BEHALF_OF_KEY, RequestSigner, SERVER_TIME_KEY, SignOptions, ENVELOPE_KEY, MAC_KEY } from '../src';

export interface ReqauthClientOptions {
  /** The credential file's content (parseCredential), or a signer to share between clients. */
  credential: ClientCredential | RequestSigner;
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

/** The transformer: keeps the original serializer aside and passes `Serialized` through. */
const transformer: CallInvocationTransformer = (props) => {
  const def = props.methodDefinition as ReqauthMethodDefinition;
  const original = def.requestSerialize as Serialize;
  let serialize = passThrough.get(original);
  if (!serialize) {
    serialize = (value) => (value instanceof Serialized ? value.bytes : original(value));
    passThrough.set(original, serialize);
  }
  // client.js builds a fresh methodDefinition per call, so it may be amended in place.
  def[ORIGINAL] = original;
  def.requestSerialize = serialize;
  return props;
};

/**
 * Options for a grpc-js client constructor: the signing interceptor and the transformer it
 * depends on. Spread them into your own options if you have others. Note that interceptors
 * passed per call replace the client's (a grpc-js rule): such calls go out unsigned and are
 * refused by the server.
 */
export function reqauthClientOptions(options: ReqauthClientOptions): Pick<ClientOptions, 'interceptors' | 'callInvocationTransformer'> {
  return { interceptors: [reqauthClientInterceptor(options)], callInvocationTransformer: transformer };
}

export function reqauthClientInterceptor(options: ReqauthClientOptions): Interceptor {
  const signer = options.credential instanceof RequestSigner ? options.credential : new RequestSigner(options.credential);
  const trustServerTime = options.trustServerTime === true;
  return (callOptions: InterceptorOptions, nextCall: NextCall) => {
    const def = callOptions.method_definition as ReqauthMethodDefinition;
    const serialize = def[ORIGINAL];
    if (!serialize) {
      throw new Error('reqauth: the client was created without reqauthClientOptions().callInvocationTransformer');
    }
    const inner = nextCall(callOptions);
    const requester = def.requestStream
      ? streamRequester(signer, def.path, serialize, inner, trustServerTime)
      : singleMessageRequester(signer, def.path, serialize, trustServerTime);
    return new InterceptingCall(inner, requester);
  };
}

/**
 * Unary and server-streaming: hold the call's start until its one message is known, so the
 * header can carry the message's digest. grpc-js sends the message right after start, so
 * the hold lasts no longer than that.
 */
function singleMessageRequester(signer: RequestSigner, path: string, serialize: Serialize, trustServerTime: boolean): Requester {
  let held: { metadata: Metadata; listener: Listener; next: (md: Metadata, listener: Listener) => void } | undefined;
  const releaseStart = () => {
    const h = held;
    held = undefined;
    h?.next(h.metadata, h.listener);
  };
  return {
    start(metadata, listener, next) {
      held = { metadata, listener: trustServerTime ? clockListener(signer, listener) : listener, next };
    },
    sendMessage(message, next) {
      const bytes = serialize(message);
      if (held) {
        const header = signer.sign(path, bytes, takeSignOptions(held.metadata));
        held.metadata.set(ENVELOPE_KEY, header.envelope);
        held.metadata.set(MAC_KEY, header.mac);
        // Start must go down before the message: grpc-js would otherwise queue the
        // original object, not these bytes.
        releaseStart();
      }
      next(new Serialized(bytes));
    },
    halfClose(next) {
      releaseStart(); // no message was sent: the server refuses the call (missing_message)
      next();
    },
    cancel(next) {
      releaseStart(); // otherwise the cancellation status has no listener to reach
      next();
    },
  };
}

/**
 * Client-streaming and bidi: the header goes at once (a bidi server may speak first); each
 * message carries its tag and the end marker precedes the half-close.
 */
function streamRequester(
  signer: RequestSigner,
  path: string,
  serialize: Serialize,
  inner: ReturnType<NextCall>,
  trustServerTime: boolean,
): Requester {
  let tagger: ReturnType<RequestSigner['streamSigner']> | undefined;
  return {
    start(metadata, listener, next) {
      const header = signer.sign(path, undefined, takeSignOptions(metadata));
      metadata.set(ENVELOPE_KEY, header.envelope);
      metadata.set(MAC_KEY, header.mac);
      tagger = signer.streamSigner(header);
      next(metadata, trustServerTime ? clockListener(signer, listener) : listener);
    },
    sendMessage(message, next) {
      next(new Serialized(tagger!.tagMessage(serialize(message))));
    },
    halfClose(next) {
      inner.sendMessage(new Serialized(tagger!.endMarker()));
      next();
    },
  };
}

/** Moves the application's on-behalf-of metadata into the envelope. */
function takeSignOptions(metadata: Metadata): SignOptions {
  const values: MetadataValue[] = metadata.get(ON_BEHALF_OF_KEY);
  if (values.length === 0) return {};
  metadata.remove(ON_BEHALF_OF_KEY);
  if (values.length !== 1 || typeof values[0] !== 'string') throw new Error(`reqauth: ${ON_BEHALF_OF_KEY} must be one string`);
  return { onBehalfOf: values[0] };
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

function clockListener(signer: RequestSigner, listener: Listener): Listener {
  return {
    ...listener,
    onReceiveStatus(status: StatusObject, next: (status: StatusObject) => void) {
      if (status.code === Status.UNAUTHENTICATED) {
        const [value] = status.metadata.get(SERVER_TIME_KEY);
        const serverTime = typeof value === 'string' ? Number(value) : NaN;
        if (Number.isSafeInteger(serverTime)) signer.adoptServerTime(serverTime);
      }
      if (listener.onReceiveStatus) listener.onReceiveStatus(status, next);
      else next(status);
    },
  };
}
