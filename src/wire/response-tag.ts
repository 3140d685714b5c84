// Authenticated responses (docs/spec.md §13), under the key that authenticated the request and
// chained from its MAC, so a response cannot be moved to another call:
// - each response message carries a trailer exactly like a request stream's (§5.2), with its
//   own label: a tag over the request MAC, its position and its exact bytes;
// - the call's end (the response count, the status code and message, and the response
//   metadata the server covers) is MACed into one trailing metadata entry.
// Transport-free: the binding hands in bytes, the status and a lookup of metadata values.
import { LABELS, MAC_BYTES, MacKey } from '../crypto';
import { ReqauthConfigError } from '../errors';
import { RESPONSE_KEY } from './metadata-keys';
import { appendTrailer, splitTrailer, verifyTag } from './stream-tag';

/** The only flags value of a response message's trailer (§13.1); others are refused. */
export const RESPONSE_FLAG_MESSAGE = 0x00;

/** How a call ended, as the server sends it and the client receives it. */
export interface ResponseStatus {
  /** The gRPC status code, an integer 0..2^32-1. */
  readonly code: number;
  /** The status message, as text (grpc-js sends it percent-encoded and decodes it). */
  readonly details: string;
}

/**
 * The values of one metadata name, as the binding sees them: strings for text keys, bytes for
 * `-bin` keys; none when absent.
 */
export type MetadataLookup = (name: string) => readonly (string | Uint8Array)[];

/** The response metadata a covered name is looked up in: the headers, then the trailers. */
export interface ResponseMetadata {
  readonly headers: MetadataLookup;
  readonly trailers: MetadataLookup;
}

const NO_METADATA: ResponseMetadata = { headers: () => [], trailers: () => [] };
const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_NAMES_BYTE = Buffer.of(0);
const EMPTY = Buffer.alloc(0);
/** u64be(count) || u32be(code) || u32be(len(details)). */
const END_FIXED = Buffer.alloc(16);

/** At most 255 covered names (a u8 counts them), each 1..256 bytes. */
export const MAX_COVERED_NAMES = 255;
const MAX_NAME_BYTES = 256;
/** gRPC metadata keys: lowercase ASCII letters, digits, `_`, `-`, `.`. */
const NAME = /^[0-9a-z_.-]+$/;
/** Never covered by name: the status travels in its own fields, and the entry cannot cover itself. */
const NOT_COVERABLE = new Set(['grpc-status', 'grpc-message', RESPONSE_KEY]);

/**
 * Checks the response metadata names a server covers (§13.2): valid gRPC keys, unique, at most
 * 255, none of gRPC's own (`grpc-…`, which grpc-js sets outside the application's metadata)
 * except `grpc-status-details-bin`. Throws a ReqauthConfigError naming the first bad one.
 */
export function checkCoveredNames(names: readonly string[]): readonly string[] {
  if (names.length > MAX_COVERED_NAMES) throw new ReqauthConfigError(`at most ${MAX_COVERED_NAMES} covered response metadata names`);
  const seen = new Set<string>();
  for (const name of names) {
    if (!validName(name) || (name.startsWith('grpc-') && name !== 'grpc-status-details-bin')) {
      throw new ReqauthConfigError(`"${name}" cannot be a covered response metadata name (a lowercase gRPC key, not grpc-… or ${RESPONSE_KEY})`);
    }
    if (seen.has(name)) throw new ReqauthConfigError(`covered response metadata name "${name}" is listed twice`);
    seen.add(name);
  }
  return Object.freeze([...names]);
}

function validName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_BYTES && NAME.test(name) && !NOT_COVERABLE.has(name);
}

/** Server side: tags each response message and MACs the call's end. */
export class ResponseSigner {
  private seq = 0;

  constructor(
    private readonly key: MacKey,
    private readonly requestMac: Uint8Array,
  ) {}

  /** Response messages tagged so far: the count the end will carry. */
  get count(): number {
    return this.seq;
  }

  /** The message bytes with their trailer appended (one copy of the body). */
  tag(body: Uint8Array): Buffer {
    return appendTrailer(this.key, LABELS.responseTag, this.requestMac, this.seq++, RESPONSE_FLAG_MESSAGE, body);
  }

  /**
   * The value of the `reqauth-response-bin` trailer for a call ending with `status` after
   * `count` messages, covering `names` (checked with checkCoveredNames) as `metadata` holds
   * them. Throws a RangeError for a status the client could not read back (a code that is not
   * an integer 0..2^32-1): such a status must go unsigned.
   */
  end(status: ResponseStatus, names: readonly string[] = NO_NAMES, metadata: ResponseMetadata = NO_METADATA): Buffer {
    const count = this.seq;
    const listed = encodeNames(names);
    const value = Buffer.allocUnsafe(8 + listed.length + MAC_BYTES);
    value.writeUInt32BE(Math.floor(count / 0x100000000), 0);
    value.writeUInt32BE(count >>> 0, 4);
    listed.copy(value, 8);
    this.key.writeMac(value.subarray(8 + listed.length), ...endInput(this.requestMac, count, status, names, metadata));
    return value;
  }
}

export type OpenedResponse =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: 'missing_response_tag' | 'bad_response_tag' };

export type ResponseEndVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'missing_response_end' | 'malformed_response_end' | 'bad_response_end' | 'response_truncated';
    };

/** Client side: checks and strips each response message's trailer in order, then the end. */
export class ResponseVerifier {
  private seq = 0;

  constructor(
    private readonly key: MacKey,
    private readonly requestMac: Uint8Array,
  ) {}

  /** Response messages verified so far. */
  get received(): number {
    return this.seq;
  }

  /** The body of the next response message, once its tag verified at its position. */
  open(framed: Buffer): OpenedResponse {
    const split = splitTrailer(framed);
    if (!split) return { ok: false, reason: 'missing_response_tag' };
    const { body, flags, tag } = split;
    if (flags !== RESPONSE_FLAG_MESSAGE || !verifyTag(this.key, LABELS.responseTag, this.requestMac, this.seq, flags, body, tag)) {
      return { ok: false, reason: 'bad_response_tag' };
    }
    this.seq++;
    return { ok: true, body };
  }

  /**
   * Checks the call's end: `entries` are the received values of `reqauth-response-bin`,
   * `metadata` what arrived in the headers and trailers. The covered names are read from the
   * entry before its MAC is checked; the MAC then authenticates them (bounded work: the entry
   * and the metadata are bounded by the transport's metadata limit).
   */
  end(status: ResponseStatus, entries: readonly (string | Uint8Array)[], metadata: ResponseMetadata = NO_METADATA): ResponseEndVerdict {
    if (entries.length === 0) return { ok: false, reason: 'missing_response_end' };
    const value = entries[0];
    if (entries.length !== 1 || typeof value === 'string' || value === undefined) return { ok: false, reason: 'malformed_response_end' };
    const parsed = parseEnd(value);
    if (!parsed || !validCode(status.code)) return { ok: false, reason: 'malformed_response_end' };
    if (!this.key.verify(parsed.mac, ...endInput(this.requestMac, parsed.count, status, parsed.names, metadata))) {
      return { ok: false, reason: 'bad_response_end' };
    }
    // The server signed this count: fewer arrived, so the stream was cut (more cannot have
    // verified, each message's position being bound).
    if (parsed.count !== this.seq) return { ok: false, reason: parsed.count > this.seq ? 'response_truncated' : 'bad_response_end' };
    return { ok: true };
  }
}

/** u8(n) || lp(name_1) || … || lp(name_n). */
function encodeNames(names: readonly string[]): Buffer {
  if (names.length > MAX_COVERED_NAMES) throw new RangeError('too many covered names');
  if (names.length === 0) return NO_NAMES_BYTE;
  const parts: Buffer[] = [Buffer.of(names.length)];
  for (const name of names) parts.push(lp16(Buffer.from(name, 'latin1')));
  return Buffer.concat(parts);
}

/** Strict: u64be(count) || u8(n) || n names || MAC, nothing more; names valid and unique. */
function parseEnd(value: Uint8Array): { count: number; names: string[]; mac: Uint8Array } | undefined {
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (buf.length < 8 + 1 + MAC_BYTES) return undefined;
  // u64be, without a BigInt: above 2^53 - 1 (a high word above 0x1fffff) is refused.
  const high = buf.readUInt32BE(0);
  if (high > 0x1fffff) return undefined;
  const count = high * 0x100000000 + buf.readUInt32BE(4);
  const n = buf[8]!;
  const end = buf.length - MAC_BYTES;
  let at = 9;
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    if (at + 2 > end) return undefined;
    const length = buf.readUInt16BE(at);
    at += 2;
    if (at + length > end) return undefined;
    const name = buf.toString('latin1', at, at + length);
    at += length;
    if (!validName(name) || names.includes(name)) return undefined;
    names.push(name);
  }
  if (at !== end) return undefined;
  return { count, names, mac: buf.subarray(end) };
}

function validCode(code: number): boolean {
  return Number.isInteger(code) && code >= 0 && code <= 0xffffffff;
}

/**
 * The end MAC's input after the key (§13.2): label || request MAC || u64be(count) ||
 * u32be(code) || u32be(len) || details (UTF-8) || u8(n) || for each covered name:
 * lp(name) || values(headers) || values(trailers).
 */
function endInput(requestMac: Uint8Array, count: number, status: ResponseStatus, names: readonly string[], metadata: ResponseMetadata): Uint8Array[] {
  if (!validCode(status.code)) throw new RangeError('a status code must be an integer 0..2^32-1 to be signed');
  const details = status.details === '' ? EMPTY : Buffer.from(status.details, 'utf8');
  // Scratch space: the MAC consumes its input at once.
  END_FIXED.writeUInt32BE(Math.floor(count / 0x100000000), 0);
  END_FIXED.writeUInt32BE(count >>> 0, 4);
  END_FIXED.writeUInt32BE(status.code, 8);
  END_FIXED.writeUInt32BE(details.length, 12);
  const parts: Uint8Array[] = [LABELS.responseEnd, requestMac, END_FIXED, details, names.length === 0 ? NO_NAMES_BYTE : Buffer.of(names.length)];
  for (const name of names) {
    parts.push(lp16(Buffer.from(name, 'latin1')));
    const binary = name.endsWith('-bin');
    parts.push(encodeValues(binary, metadata.headers(name)), encodeValues(binary, metadata.trailers(name)));
  }
  return parts;
}

/**
 * u32be(k) || (u32be(len) || bytes) × k. A `-bin` key's values one by one; a text key's
 * values as one string joined by ", " (k = 0 or 1), because HTTP/2 receivers join a header's
 * repeated fields that way (Node does, and grpc-js hands the joined string on).
 */
function encodeValues(binary: boolean, values: readonly (string | Uint8Array)[]): Buffer {
  const items: Buffer[] = binary
    ? values.map((v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength)))
    : values.length === 0
      ? []
      : [Buffer.from(values.map((v) => (typeof v === 'string' ? v : Buffer.from(v).toString('utf8'))).join(', '), 'utf8')];
  let length = 4;
  for (const item of items) length += 4 + item.length;
  const out = Buffer.allocUnsafe(length);
  out.writeUInt32BE(items.length, 0);
  let at = 4;
  for (const item of items) {
    out.writeUInt32BE(item.length, at);
    item.copy(out, at + 4);
    at += 4 + item.length;
  }
  return out;
}

function lp16(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}
