// An on-path attacker for tests: a grpc-js client interceptor placed AFTER reqauth's (closer
// to the wire), so it sees the metadata reqauth signed and the exact bytes of every request
// frame, end marker included, and may change, drop, reorder, duplicate or inject them.
//
//   const c = h.client(cred, { interceptors: [attacker({ message: (f) => [flip(f.bytes, 0)] })] });
//
// Plus raw senders: a client with identity serializers that puts given metadata and given
// bytes on the wire (replaying a captured request exactly).
import * as grpc from '@grpc/grpc-js';
import type { InterceptingCallInterface } from '@grpc/grpc-js/build/src/client-interceptors';
import type { InterceptingListener, MessageContext } from '@grpc/grpc-js/build/src/call-interface';
import { FLAG_END, TRAILER_BYTES } from '../../src';

/** One request frame as reqauth handed it to the wire. */
export interface Frame {
  /** The exact bytes (for request streams: body ‖ trailer). */
  readonly bytes: Buffer;
  /** 0-based position among the frames reqauth sent on this call, end marker included. */
  readonly index: number;
  /** This frame is a request stream's end marker (empty body, END flag). */
  readonly end: boolean;
}

export interface Plan {
  /** The signed metadata, just before it goes on the wire: mutate it in place. */
  start?(metadata: grpc.Metadata): void;
  /**
   * The frames to send in place of this one: `[]` drops it, several are sent in order.
   * Default: the frame unchanged. Messages after the end marker: return [end, extra].
   */
  message?(frame: Frame): Buffer[];
}

/** Whether these bytes are an end marker: a lone 39-byte trailer with the END flag. */
export function isEndMarker(bytes: Buffer): boolean {
  return bytes.length === TRAILER_BYTES && bytes[6] === FLAG_END;
}

/** A copy of `bytes` with the byte at `at` (negative: from the end) XOR-ed with 0x01. */
export function flip(bytes: Buffer, at: number): Buffer {
  const out = Buffer.from(bytes);
  const i = at < 0 ? out.length + at : at;
  out[i] = out[i]! ^ 0x01;
  return out;
}

/** A new message object of the same class as `like` (reqauth's private `Serialized`). */
function carrying(like: object, bytes: Buffer): object {
  return Object.assign(Object.create(Object.getPrototypeOf(like) as object) as object, { bytes });
}

/**
 * Overrides what it tampers with; cancel, reads, peer go straight down (InterceptingCall).
 * Writes go down one at a time, each after the previous one's callback, and the half-close
 * after the last: grpc-js's lower layers expect a writable stream's discipline, and two
 * writes in one tick can overtake a half-close there.
 */
class AttackingCall extends grpc.InterceptingCall {
  private index = 0;
  private readonly queue: { context: MessageContext; message: unknown }[] = [];
  private writing = false;
  private halfClosed = false;

  constructor(
    private readonly next: InterceptingCallInterface,
    private readonly plan: Plan,
  ) {
    super(next);
  }

  override start(metadata: grpc.Metadata, listener?: Partial<InterceptingListener>): void {
    this.plan.start?.(metadata);
    this.next.start(metadata, listener);
  }

  override sendMessageWithContext(context: MessageContext, message: unknown): void {
    const bytes = (message as { bytes?: unknown }).bytes;
    if (!Buffer.isBuffer(bytes) || !this.plan.message) {
      this.index++;
      this.write(context, message);
      return;
    }
    const out = this.plan.message({ bytes, index: this.index++, end: isEndMarker(bytes) });
    if (out.length === 0) {
      // Dropped: complete the write so the application's stream keeps flowing.
      process.nextTick(() => context.callback?.());
      return;
    }
    out.forEach((b, i) => this.write(i === out.length - 1 ? context : {}, carrying(message as object, b)));
  }

  override sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  override halfClose(): void {
    this.halfClosed = true;
    this.pump();
  }

  private write(context: MessageContext, message: unknown): void {
    this.queue.push({ context, message });
    this.pump();
  }

  private pump(): void {
    if (this.writing) return;
    const item = this.queue.shift();
    if (!item) {
      if (this.halfClosed) {
        this.halfClosed = false;
        this.next.halfClose();
      }
      return;
    }
    this.writing = true;
    const done: NonNullable<MessageContext["callback"]> = (error) => {
      this.writing = false;
      item.context.callback?.(error);
      this.pump();
    };
    this.next.sendMessageWithContext({ ...item.context, callback: done }, item.message);
  }
}

/** The interceptor carrying out `plan` on every call of the client it is installed in. */
export function attacker(plan: Plan): grpc.Interceptor {
  return (options, nextCall) => new AttackingCall(nextCall(options), plan);
}

/** One call as it went on the wire. */
export interface Captured {
  /** A copy of the metadata reqauth signed. */
  readonly metadata: grpc.Metadata;
  /** Every frame, in order, as sent. */
  readonly frames: Buffer[];
}

/** An attacker that only watches: a copy of every call's metadata and frames. */
export function recorder(): { interceptor: grpc.Interceptor; calls: Captured[] } {
  const calls: Captured[] = [];
  let current: Captured | undefined;
  const interceptor = attacker({
    start(md) {
      current = { metadata: md.clone(), frames: [] };
      calls.push(current);
    },
    message(frame) {
      current!.frames.push(Buffer.from(frame.bytes));
      return [frame.bytes];
    },
  });
  return { interceptor, calls };
}

const identity = (b: Buffer) => b;

/** Sends exactly `metadata` and `bytes` on `path`, as a unary call, bypassing any signer. */
export function rawUnary(
  target: string,
  path: string,
  metadata: grpc.Metadata,
  bytes: Buffer,
  channel: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  deadline?: number,
): Promise<Buffer> {
  const client = new grpc.Client(target, channel);
  return new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(path, identity, identity, bytes, metadata.clone(), deadline ? { deadline } : {}, (err, res) => (err ? reject(err) : resolve(res!))),
  ).finally(() => client.close());
}

/** Sends exactly `metadata` and `bytes` on `path`, as a server-streaming call. */
export function rawServerStream(target: string, path: string, metadata: grpc.Metadata, bytes: Buffer): Promise<{ messages: Buffer[]; error?: grpc.ServiceError }> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise<{ messages: Buffer[]; error?: grpc.ServiceError }>((resolve) => {
    const messages: Buffer[] = [];
    const stream = client.makeServerStreamRequest(path, identity, identity, bytes, metadata.clone());
    stream.on('data', (m: Buffer) => messages.push(m));
    stream.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    stream.on('end', () => resolve({ messages }));
  }).finally(() => client.close());
}
