// Man-in-the-middle tools for the demo: client interceptors that sit *below* reqauth's (closer
// to the wire), so they see the signed metadata and the exact bytes, and a raw client that
// sends captured bytes and metadata as they are. They show what the server refuses, and (for
// responses the client requires to be signed) what the client refuses.
import * as grpc from '@grpc/grpc-js';

/** The shape of reqauth's pre-serialized messages as they travel down the interceptor chain. */
interface Framed {
  bytes: Buffer;
}

export interface Tampering {
  /** Change the signed metadata before it leaves (e.g. replace the MAC). */
  metadata?: (md: grpc.Metadata) => void;
  /** Decide what to do with the i-th message's exact bytes: return new bytes, or null to drop it. */
  message?: (bytes: Buffer, index: number) => Buffer | null;
}

export function tamperingInterceptor(tampering: Tampering): grpc.Interceptor {
  return (options, nextCall) =>
    new TamperingCall(nextCall(options), tampering, {
      start(metadata, listener, next) {
        tampering.metadata?.(metadata);
        next(metadata, listener);
      },
    });
}

type MessageContext = { callback?: (error?: Error | null) => void };

/**
 * Messages are handled here rather than in a Requester so that a dropped message still
 * completes its write: the application's stream would otherwise wait for it forever.
 */
class TamperingCall extends grpc.InterceptingCall {
  private index = 0;

  constructor(next: ConstructorParameters<typeof grpc.InterceptingCall>[0], private readonly tampering: Tampering, requester: grpc.Requester) {
    super(next, requester);
  }

  override sendMessageWithContext(context: MessageContext, message: Framed): void {
    const out = this.tampering.message ? this.tampering.message(message.bytes, this.index++) : message.bytes;
    if (out === null) {
      context.callback?.(); // dropped on the wire, written as far as the sender can tell
      return;
    }
    message.bytes = out;
    super.sendMessageWithContext(context, message);
  }
}

export interface Captured {
  metadata: grpc.Metadata;
  messages: Buffer[];
}

/** Records what reqauth sent (metadata and exact message bytes) for a later replay. */
export function capturingInterceptor(into: Captured[]): grpc.Interceptor {
  return (options, nextCall) => {
    const record: Captured = { metadata: new grpc.Metadata(), messages: [] };
    into.push(record);
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        record.metadata = metadata.clone();
        next(metadata, listener);
      },
      sendMessage(message: Framed, next) {
        record.messages.push(Buffer.from(message.bytes));
        next(message);
      },
    });
  };
}

/** Sends the given bytes and metadata on `path` as a unary call, with no signing at all. */
export function sendRawUnary(target: string, path: string, metadata: grpc.Metadata, bytes: Buffer): Promise<grpc.status> {
  const identity = (b: Buffer) => b;
  const Raw = grpc.makeGenericClientConstructor(
    {
      call: { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    },
    'raw',
  );
  const client = new Raw(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    call(req: Buffer, md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void): void;
  };
  return new Promise((resolve) =>
    client.call(bytes, metadata, (err) => {
      client.close();
      resolve(err ? err.code : grpc.status.OK);
    }),
  );
}

export interface ResponseTampering {
  /** The i-th response message's exact bytes (body and tag), as they arrive: new bytes, or null to drop it. */
  message?: (bytes: Buffer, index: number) => Buffer | null;
  /** The status as it arrives, before reqauth checks it: the status to pass on instead. */
  status?: (status: grpc.StatusObject) => grpc.StatusObject;
}

/**
 * Changes responses on their way in, below reqauth's interceptor: for a call that requires
 * signed responses it sees each message's exact bytes, trailer included, and the status with
 * its end entry — what a man in the middle on the wire could change.
 */
export function responseTamperingInterceptor(tampering: ResponseTampering): grpc.Interceptor {
  return (options, nextCall) => new ResponseTamperingCall(nextCall(options), tampering);
}

type Listener = Parameters<grpc.InterceptingCall['start']>[1];

class ResponseTamperingCall extends grpc.InterceptingCall {
  private index = 0;

  constructor(next: ConstructorParameters<typeof grpc.InterceptingCall>[0], private readonly tampering: ResponseTampering) {
    super(next);
  }

  override start(metadata: grpc.Metadata, listener?: Listener): void {
    super.start(metadata, {
      onReceiveMetadata: (md: grpc.Metadata) => listener?.onReceiveMetadata?.(md),
      onReceiveMessage: (message: unknown) => {
        const out = Buffer.isBuffer(message) && this.tampering.message ? this.tampering.message(message, this.index++) : message;
        if (out === null) return this.startRead(); // dropped: read on, as if it never came
        listener?.onReceiveMessage?.(out);
      },
      onReceiveStatus: (status: grpc.StatusObject) => listener?.onReceiveStatus?.(this.tampering.status ? this.tampering.status(status) : status),
    });
  }
}
