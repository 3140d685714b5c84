// Per-message tags for request streams (docs/spec.md §5.2). Each message of a client- or
// bidi-streaming call carries a trailer: an unknown protobuf field appended to the message
// bytes, holding flags and an HMAC that binds the message to its call (the header MAC) and
// its position (sequence number). After the last message the client sends an end marker: an
// empty message whose trailer has the END flag. So a dropped, reordered, duplicated,
// injected or modified message fails its tag, and a stream cut short lacks its end marker.
import { LABELS, MAC_BYTES, MacKey } from '../crypto';

/** Protobuf key of field 536870911 (the largest field number), wire type 2, as a varint. */
const TRAILER_KEY = Buffer.of(0xfa, 0xff, 0xff, 0xff, 0x0f);
const PAYLOAD_BYTES = 1 + MAC_BYTES; // flags, tag
export const TRAILER_BYTES = TRAILER_KEY.length + 1 + PAYLOAD_BYTES; // 39

export const FLAG_MESSAGE = 0x00;
export const FLAG_END = 0x01;

/**
 * The input of message `seq`'s tag, after the key: label || header MAC || u64be(seq) ||
 * u8(flags) || body. Response tags (spec §13.1) use the same input under their own label.
 */
function tagInput(label: Uint8Array, headerMac: Uint8Array, seq: number, flags: number, body: Uint8Array): readonly Uint8Array[] {
  // Scratch space, not a Buffer, a BigInt or an array per message: the MAC consumes its
  // input at once.
  POSITION.writeUInt32BE(Math.floor(seq / 0x100000000), 0);
  POSITION.writeUInt32BE(seq >>> 0, 4);
  POSITION[8] = flags;
  TAG_INPUT[0] = label;
  TAG_INPUT[1] = headerMac;
  TAG_INPUT[3] = body;
  return TAG_INPUT;
}

/** u64be(seq) || u8(flags); seq stays below 2^53 (a JavaScript counter). */
const POSITION = Buffer.alloc(9);
const EMPTY = new Uint8Array(0);
const TAG_INPUT: Uint8Array[] = [EMPTY, EMPTY, POSITION, EMPTY];

/** The scratch input holds no message once its MAC is made. */
function releaseTagInput(): void {
  TAG_INPUT[1] = EMPTY;
  TAG_INPUT[3] = EMPTY;
}

/**
 * @internal `body || trailer`: the trailer holds `flags` and the tag of message `seq` under
 * `label` (stream tags, §5.2; response tags, §13.1). One copy of the body.
 */
export function appendTrailer(key: MacKey, label: Uint8Array, headerMac: Uint8Array, seq: number, flags: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + TRAILER_BYTES);
  out.set(body, 0);
  let at = body.length;
  out.set(TRAILER_KEY, at);
  at += TRAILER_KEY.length;
  out[at++] = PAYLOAD_BYTES;
  out[at++] = flags;
  key.writeMacOf(out, at, tagInput(label, headerMac, seq, flags, body));
  releaseTagInput();
  return out;
}

/** @internal A framed message split at its trailer, or undefined when it has none. */
export function splitTrailer(framed: Buffer): { readonly body: Buffer; readonly flags: number; readonly tag: Buffer } | undefined {
  const at = framed.length - TRAILER_BYTES;
  if (at < 0 || framed[at + TRAILER_KEY.length] !== PAYLOAD_BYTES) return undefined;
  for (let i = 0; i < TRAILER_KEY.length; i++) if (framed[at + i] !== TRAILER_KEY[i]) return undefined; // a public constant
  return { body: framed.subarray(0, at), flags: framed[at + TRAILER_KEY.length + 1]!, tag: framed.subarray(at + TRAILER_KEY.length + 2) };
}

/** @internal Constant-time: is `tag` the tag of message `seq` under `label`? */
export function verifyTag(key: MacKey, label: Uint8Array, headerMac: Uint8Array, seq: number, flags: number, body: Uint8Array, tag: Uint8Array): boolean {
  const ok = key.verifyOf(tag, tagInput(label, headerMac, seq, flags, body));
  releaseTagInput();
  return ok;
}

/** Client side: appends each message's trailer, counting messages. */
export class StreamSigner {
  private readonly principalKey: MacKey;
  private seq = 0;
  private ended = false;

  constructor(
    principalKey: Uint8Array | MacKey,
    private readonly headerMac: Uint8Array,
  ) {
    this.principalKey = principalKey instanceof MacKey ? principalKey : new MacKey(principalKey);
  }

  /** The message bytes with their trailer appended (one copy of the body). */
  tagMessage(body: Uint8Array): Buffer {
    return this.frame(body, FLAG_MESSAGE);
  }

  /** The end marker: an empty body with the END flag. Call once, after the last message. */
  endMarker(): Buffer {
    return this.frame(new Uint8Array(0), FLAG_END);
  }

  private frame(body: Uint8Array, flags: number): Buffer {
    if (this.ended) throw new Error('stream already ended');
    if (flags === FLAG_END) this.ended = true;
    return appendTrailer(this.principalKey, LABELS.streamTag, this.headerMac, this.seq++, flags, body);
  }
}

export type OpenedMessage =
  | { readonly ok: true; readonly end: false; readonly body: Buffer }
  | { readonly ok: true; readonly end: true }
  | { readonly ok: false; readonly reason: 'missing_stream_tag' | 'bad_stream_tag' | 'message_after_end' };

/** Server side: checks and strips each message's trailer, in order. */
export class StreamVerifier {
  private readonly principalKey: MacKey;
  private seq = 0;
  private ended = false;

  constructor(
    principalKey: Uint8Array | MacKey,
    private readonly headerMac: Uint8Array,
  ) {
    this.principalKey = principalKey instanceof MacKey ? principalKey : new MacKey(principalKey);
  }

  /** Whether the end marker has been seen; a half-close before it means truncation. */
  get complete(): boolean {
    return this.ended;
  }

  open(framed: Buffer): OpenedMessage {
    if (this.ended) return { ok: false, reason: 'message_after_end' };
    const split = splitTrailer(framed);
    if (!split) return { ok: false, reason: 'missing_stream_tag' };
    const { body, flags, tag } = split;
    if ((flags !== FLAG_MESSAGE && flags !== FLAG_END) || (flags === FLAG_END && body.length !== 0)) {
      return { ok: false, reason: 'bad_stream_tag' };
    }
    if (!verifyTag(this.principalKey, LABELS.streamTag, this.headerMac, this.seq, flags, body, tag)) {
      return { ok: false, reason: 'bad_stream_tag' };
    }
    this.seq++;
    if (flags === FLAG_END) {
      this.ended = true;
      return { ok: true, end: true };
    }
    return { ok: true, end: false, body };
  }
}
