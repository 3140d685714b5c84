// Generates test/vectors/response-v1.json (spec §13.6) from fixed inputs. Run after `npm run build`:
//
//   node dist/test/vectors/generate-responses.js > test/vectors/response-v1.json
//
// Each vector answers a request of envelope-v1.json (named by `request.envelope_vector`): the
// call key is that vector's principal key (its possession key with a macaroon) and the
// request MAC is its MAC. Nothing is random. Every positive vector comes with negative ones:
// a complete received response (frames, status, end entries, metadata) and the reason a
// verifier must refuse it with. test/core/response-vectors.test.ts checks the file.
import { hmacSha256, LABELS, MacKey } from '../../src/crypto';
import { ResponseMetadata, ResponseSigner } from '../../src/wire/response-tag';
import { TRAILER_BYTES } from '../../src/wire/stream-tag';
import { lenField, loadVectors, varintField } from '../support/vectors';
import type { EnvelopeVectorFile } from './generate';

/** Values of one covered name: strings for text names, lowercase hex for `-bin` names. */
export type MetadataJson = Readonly<Record<string, readonly string[]>>;

/** A response as a client receives it. */
export interface ReceivedResponse {
  /** Each response message as framed: body || trailer. */
  readonly frames_hex: readonly string[];
  readonly status: { readonly code: number; readonly details: string };
  /** The values of the `reqauth-response-bin` trailer, in order (exactly one when signed). */
  readonly end_entries_hex: readonly string[];
  readonly headers: MetadataJson;
  readonly trailers: MetadataJson;
}

export interface NegativeResponseVector extends ReceivedResponse {
  readonly name: string;
  /** The reason code (spec §8) a verifier refuses it with. */
  readonly reason: string;
}

export interface ResponseVector {
  readonly name: string;
  readonly description: string;
  readonly request: {
    /** The envelope-v1.json vector this response answers. */
    readonly envelope_vector: string;
    /** Its principal key, or its possession key with a macaroon (spec §11.2). */
    readonly call_key_hex: string;
    /** Its request MAC. */
    readonly request_mac_hex: string;
  };
  /** The response messages' bodies, in order. */
  readonly messages_hex: readonly string[];
  /** The response metadata names the server covers (spec §13.2), in the order it lists them. */
  readonly covered_names: readonly string[];
  /** The response as sent: frames, status, the one end entry, metadata. */
  readonly response: ReceivedResponse;
  /** The input of the end MAC after the key, in full, and the MAC. */
  readonly end_input_hex: string;
  readonly end_mac_hex: string;
  readonly negative: readonly NegativeResponseVector[];
}

export interface ResponseVectorFile {
  readonly source: string;
  readonly description: string;
  readonly labels_hex: { readonly responseTag: string; readonly responseEnd: string };
  readonly vectors: readonly ResponseVector[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');

interface Spec {
  name: string;
  description: string;
  envelope: string;
  messages: Buffer[];
  status: { code: number; details: string };
  covered?: string[];
  headers?: MetadataJson;
  trailers?: MetadataJson;
}

// ledger.v1 responses, hand-encoded.
const transferResponse = Buffer.concat([lenField(1, 'tx-0001'), varintField(2, 987_500), varintField(3, 12_500)]);
const reconcileResponse = (id: string, matches: boolean) => Buffer.concat([lenField(1, id), ...(matches ? [varintField(2, 1)] : [])]);

const SPECS: Spec[] = [
  {
    name: 'unary-ok',
    description: 'The TransferResponse to envelope vector "unary": one message at seq 0, status OK with an empty message, nothing covered.',
    envelope: 'unary',
    messages: [transferResponse],
    status: { code: 0, details: '' },
  },
  {
    name: 'stream-ok',
    description: 'Three ReconcileResponse messages (seq 0-2) answering the bidi call of envelope vector "stream-zero-messages", status OK.',
    envelope: 'stream-zero-messages',
    messages: [reconcileResponse('tx-1001', true), reconcileResponse('tx-1002', false), reconcileResponse('tx-1003', true)],
    status: { code: 0, details: '' },
  },
  {
    name: 'unary-error-covered-metadata',
    description:
      'No message; status FAILED_PRECONDITION (9) with a non-ASCII message (UTF-8 bytes); three covered names: a text header ' +
      'sent as two values (joined ", " as HTTP/2 receivers join them), a binary trailer, and a name sent nowhere (zero values twice).',
    envelope: 'unary-on-behalf-of-credential',
    messages: [],
    status: { code: 9, details: 'solde insuffisant: 12,50 € manquent' },
    covered: ['x-note', 'x-audit-bin', 'x-absent'],
    headers: { 'x-note': ['first', 'second'], 'x-uncovered': ['not in the MAC'] },
    trailers: { 'x-audit-bin': ['0001ff'] },
  },
  {
    name: 'unary-macaroon-ok',
    description: 'A response to the macaroon call of envelope vector "unary-macaroon-possession": keyed with its possession key.',
    envelope: 'unary-macaroon-possession',
    messages: [transferResponse],
    status: { code: 0, details: '' },
  },
];

function lookup(json: MetadataJson | undefined): ResponseMetadata['headers'] {
  return (name) => (json?.[name] ?? []).map((v) => (name.endsWith('-bin') ? unhex(v) : v));
}

/** The end MAC's input written out from the spec's formula, independently of the signer. */
function endInputFromSpec(requestMac: Buffer, count: number, status: Spec['status'], names: readonly string[], headers?: MetadataJson, trailers?: MetadataJson): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  const lp = (s: string) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), Buffer.from(s, 'utf8')]);
  const values = (name: string, json?: MetadataJson) => {
    const raw = json?.[name] ?? [];
    const items = name.endsWith('-bin') ? raw.map(unhex) : raw.length === 0 ? [] : [Buffer.from(raw.join(', '), 'utf8')];
    return Buffer.concat([u32(items.length), ...items.flatMap((i) => [u32(i.length), i])]);
  };
  const details = Buffer.from(status.details, 'utf8');
  return Buffer.concat([
    LABELS.responseEnd,
    requestMac,
    u64(count),
    u32(status.code),
    u32(details.length),
    details,
    Buffer.of(names.length),
    ...names.flatMap((n) => [lp(n), values(n, headers), values(n, trailers)]),
  ]);
}

const flipLast = (h: string) => {
  const b = unhex(h);
  b[b.length - 1]! ^= 0x01;
  return hex(b);
};

function negatives(spec: Spec, sent: ReceivedResponse, otherEntry: string): NegativeResponseVector[] {
  const out: NegativeResponseVector[] = [];
  const variant = (name: string, reason: string, change: Partial<ReceivedResponse>) => out.push({ name, reason, ...sent, ...change });
  const frames = sent.frames_hex;
  const entry = sent.end_entries_hex[0]!;
  if (frames.length > 0) {
    variant('altered tag: the last bit of message 0\'s tag flipped', 'bad_response_tag', { frames_hex: [flipLast(frames[0]!), ...frames.slice(1)] });
    const body0 = unhex(frames[0]!);
    body0[0]! ^= 0x01;
    variant('altered message: the first bit of message 0\'s body flipped', 'bad_response_tag', { frames_hex: [hex(body0), ...frames.slice(1)] });
    variant('untagged: message 0 without its trailer', 'missing_response_tag', {
      frames_hex: [hex(unhex(frames[0]!).subarray(0, unhex(frames[0]!).length - TRAILER_BYTES)), ...frames.slice(1)],
    });
    variant('truncated: the last message missing', 'response_truncated', { frames_hex: frames.slice(0, -1) });
    variant('duplicated: message 0 twice', 'bad_response_tag', { frames_hex: [frames[0]!, ...frames] });
  }
  if (frames.length > 1) variant('reordered: messages 0 and 1 swapped', 'bad_response_tag', { frames_hex: [frames[1]!, frames[0]!, ...frames.slice(2)] });
  const count = unhex(entry);
  count.writeBigUInt64BE(count.readBigUInt64BE(0) + 1n, 0);
  variant('wrong count: the entry\'s count one higher, its MAC unchanged', 'bad_response_end', { end_entries_hex: [hex(count)] });
  variant(
    `flipped status: ${spec.status.code === 0 ? 'OK to FAILED_PRECONDITION (9)' : `${spec.status.code} to OK`}, the entry unchanged`,
    'bad_response_end',
    { status: { code: spec.status.code === 0 ? 9 : 0, details: spec.status.details } },
  );
  variant('altered status message', 'bad_response_end', { status: { code: spec.status.code, details: spec.status.details + '.' } });
  variant('altered end MAC: its last bit flipped', 'bad_response_end', { end_entries_hex: [flipLast(entry)] });
  variant('end entry from another call (vector of another request)', 'bad_response_end', { end_entries_hex: [otherEntry] });
  variant('no end entry', 'missing_response_end', { end_entries_hex: [] });
  variant('two end entries', 'malformed_response_end', { end_entries_hex: [entry, entry] });
  if ((spec.covered ?? []).length > 0) {
    variant('a covered header value changed', 'bad_response_end', { headers: { ...sent.headers, 'x-note': ['first'] } });
    variant('a covered trailer removed', 'bad_response_end', { trailers: {} });
    variant('a covered name given a value', 'bad_response_end', { trailers: { ...sent.trailers, 'x-absent': ['surprise'] } });
  }
  return out;
}

export function generateResponseVectors(): ResponseVectorFile {
  const envelopes = loadVectors<EnvelopeVectorFile>('envelope-v1.json');
  const built = SPECS.map((spec) => {
    const ev = envelopes.vectors.find((v) => v.name === spec.envelope);
    if (!ev) throw new Error(`no envelope vector ${spec.envelope}`);
    const callKey = unhex(ev.macaroon?.possession_key_hex ?? ev.principal_key_hex);
    const mac = unhex(ev.mac_hex);
    const signer = new ResponseSigner(new MacKey(callKey), mac);
    const frames = spec.messages.map((m) => signer.tag(m));
    const names = spec.covered ?? [];
    const entry = signer.end(spec.status, names, { headers: lookup(spec.headers), trailers: lookup(spec.trailers) });
    const input = endInputFromSpec(mac, frames.length, spec.status, names, spec.headers, spec.trailers);
    const endMac = hmacSha256(callKey, input);
    if (!endMac.equals(entry.subarray(entry.length - 32))) throw new Error(`${spec.name}: the signer disagrees with the spec's formula`);
    const response: ReceivedResponse = {
      frames_hex: frames.map(hex),
      status: spec.status,
      end_entries_hex: [hex(entry)],
      headers: spec.headers ?? {},
      trailers: spec.trailers ?? {},
    };
    return { spec, callKey, mac, response, input, endMac };
  });
  return {
    source: 'reqauth wire specification v1, docs/spec.md §13.6; generated by test/vectors/generate-responses.ts',
    description:
      'Responses to requests of envelope-v1.json. *_hex fields are lowercase hex; metadata values are strings for text names and hex for -bin names. ' +
      'frame = body || FA FF FF FF 0F || 21 || 00 || HMAC-SHA256(call_key, labels.responseTag || request_mac || u64be(seq) || u8(0) || body); ' +
      'end entry (reqauth-response-bin) = u64be(count) || u8(n) || lp(name_1) || ... || lp(name_n) || end_mac; ' +
      'end_mac = HMAC-SHA256(call_key, end_input), end_input = labels.responseEnd || request_mac || u64be(count) || u32be(code) || u32be(len(details)) || details (UTF-8) || u8(n) || ' +
      'for each covered name: lp(name) || values(headers) || values(trailers); values = u32be(k) || (u32be(len) || bytes) x k, a text name\'s values joined by ", " into one (k = 0 or 1), a -bin name\'s one by one. ' +
      'A negative vector is a complete received response and the reason a verifier must refuse it with.',
    labels_hex: { responseTag: hex(LABELS.responseTag), responseEnd: hex(LABELS.responseEnd) },
    vectors: built.map((b, i) => ({
      name: b.spec.name,
      description: b.spec.description,
      request: { envelope_vector: b.spec.envelope, call_key_hex: hex(b.callKey), request_mac_hex: hex(b.mac) },
      messages_hex: b.spec.messages.map(hex),
      covered_names: b.spec.covered ?? [],
      response: b.response,
      end_input_hex: hex(b.input),
      end_mac_hex: hex(b.endMac),
      negative: negatives(b.spec, b.response, built[(i + 1) % built.length]!.response.end_entries_hex[0]!),
    })),
  };
}

if (require.main === module) {
  process.stdout.write(JSON.stringify(generateResponseVectors(), null, 2) + '\n');
}
