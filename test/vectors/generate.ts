// Generates test/vectors/envelope-v1.json (spec §10) from fixed inputs. Run once, after
// `npm run build`:
//
//   node dist/test/vectors/generate.js > test/vectors/envelope-v1.json
//
// Nothing here is random: the root secret, key id, nonces, times and messages are constants,
// so the output is the same on every run. test/core/vectors.test.ts checks that the current
// code still reproduces every value in the committed file and that a verifier accepts it.
import { hmacSha256, LABELS, lengthPrefixed, sha256 } from '../../src/crypto';
import { canonicalRoles, encodeEnvelope, Envelope, ENVELOPE_VERSION } from '../../src/wire/envelope';
import { deriveAudienceKey, derivePrincipalKey } from '../../src/keys/derive';
import { StreamSigner } from '../../src/wire/stream-tag';
import { encodeMacaroonCredential, macaroonSignature, possessionKey, possessionProof, Presentation } from '../../src/macaroon/credential';
import { addFirstPartyCaveat, mintMacaroon, Macaroon } from '../../src/macaroon/index';
import { MacKey } from '../../src/crypto';
import { lenField, varintField } from '../support/vectors';

export interface VectorInputs {
  readonly root_secret_hex: string;
  readonly key_id: string;
  readonly audience: string;
  readonly principal: string;
  /** Canonical order (sorted by UTF-8 bytes, unique), as in the envelope. */
  readonly roles: readonly string[];
  readonly on_behalf_of: string;
  readonly method: string;
  readonly nonce_hex: string;
  readonly issued_at_ms: number;
  readonly credential_hex: string;
  /**
   * Macaroon vectors (spec §11): the macaroon the credential presents. `credential_hex` is then
   * computed (root with its signature withheld, discharges, presentation, proof).
   */
  readonly macaroon?: {
    readonly root_key_hex: string;
    readonly location: string;
    readonly identifier: string;
    readonly caveats: readonly string[];
    readonly presentation: Presentation;
  };
  /** Unary vectors: the single request message. */
  readonly message_hex?: string;
  /** Stream vectors: the request messages, in order (may be empty). */
  readonly messages_hex?: readonly string[];
}

export interface EnvelopeVector {
  readonly name: string;
  readonly description: string;
  readonly kind: 'unary' | 'stream';
  readonly inputs: VectorInputs;
  readonly audience_key_info_hex: string;
  readonly audience_key_hex: string;
  readonly principal_key_info_hex: string;
  readonly principal_key_hex: string;
  readonly envelope_hex: string;
  readonly mac_hex: string;
  /** SHA-256 of the message for unary vectors; empty for streams. */
  readonly body_digest_hex: string;
  /** Streams: each tagged message, then the end marker. Empty for unary vectors. */
  readonly frames_hex: readonly string[];
  /** Macaroon vectors: the root's signature, the possession key (which keys the stream tags) and the proof. */
  readonly macaroon?: {
    readonly signature_hex: string;
    readonly possession_key_hex: string;
    readonly proof_hex: string;
  };
}

export interface EnvelopeVectorFile {
  readonly source: string;
  readonly description: string;
  /** The request side's labels; the response labels are in response-v1.json (spec §13). */
  readonly labels_hex: Readonly<Record<Exclude<keyof typeof LABELS, 'responseTag' | 'responseEnd'>, string>>;
  readonly vectors: readonly EnvelopeVector[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ------------------------------------------------------------------ fixed inputs

const ROOT_SECRET = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const KEY_ID = 'k20250101T000000-0a1b2c';
const AUDIENCE = 'ledger';
const ISSUED_AT = 1_735_689_600_000; // 2025-01-01T00:00:00.000Z
const MACAROON_ROOT_KEY = Buffer.from('6d6163617230306e20726f6f74206b657920666f72207465737420766563746f', 'hex');
const MACAROON_LOCATION = 'tokens';
const MACAROON_IDENTIFIER = 'k20250101T000000-0a1b2c.c2Vzc2lvbi0wMDAx';

function vectorMacaroon(caveats: readonly string[]): Macaroon {
  let m = mintMacaroon({ rootKey: MACAROON_ROOT_KEY, identifier: MACAROON_IDENTIFIER, location: MACAROON_LOCATION });
  for (const c of caveats) m = addFirstPartyCaveat(m, c);
  return m;
}

/** ledger.v1.Transaction, hand-encoded so the message bytes are realistic protobuf. */
function transaction(id: string, from: string, to: string, amount: number, memo = ''): Buffer {
  return Buffer.concat([
    lenField(1, id),
    lenField(2, from),
    lenField(3, to),
    varintField(4, amount),
    ...(memo ? [lenField(5, memo)] : []),
  ]);
}
/** A request message whose field 1 is a Transaction (TransferRequest, ImportTransactionsRequest). */
const wrap = (tx: Buffer) => lenField(1, tx);

interface Spec {
  name: string;
  description: string;
  principal: string;
  roles: string[];
  onBehalfOf?: string;
  method: string;
  nonce: string;
  issuedAtMs: number;
  credential?: Buffer;
  macaroon?: { caveats: string[]; presentation: Presentation };
  message?: Buffer;
  messages?: Buffer[];
}

const SPECS: Spec[] = [
  {
    name: 'unary',
    description: 'Unary call with one role; no on_behalf_of, no credential.',
    principal: 'frontdesk',
    roles: ['teller'],
    method: '/ledger.v1.LedgerService/Transfer',
    nonce: '00112233445566778899aabbccddeeff',
    issuedAtMs: ISSUED_AT,
    message: wrap(transaction('tx-0001', 'acme-checking', 'acme-savings', 12_500, 'rent')),
  },
  {
    name: 'unary-on-behalf-of-credential',
    description:
      'Unary call with on_behalf_of and credential bytes, a non-ASCII principal (lp() counts UTF-8 bytes) and ' +
      'roles whose canonical order is by UTF-8 bytes: U+FB01 (EF AC 81) sorts before U+1F512 (F0 9F 94 92), ' +
      'although UTF-16 order would put the emoji first.',
    principal: 'zürich-settlement',
    roles: ['🔒vault', 'teller', 'ﬁnance', 'auditor'],
    onBehalfOf: 'José Müller <jose@example.com>',
    method: '/ledger.v1.LedgerService/GetBalance',
    nonce: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
    issuedAtMs: ISSUED_AT + 1,
    credential: Buffer.from('macaroon:v1:placeholder', 'utf8'),
    message: lenField(1, 'acme-checking'),
  },
  {
    name: 'stream',
    description: 'Client-streaming call: empty body_digest; three tagged messages (seq 0-2) and the end marker (seq 3).',
    principal: 'batch-importer',
    roles: ['importer'],
    method: '/ledger.v1.LedgerService/ImportTransactions',
    nonce: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
    issuedAtMs: ISSUED_AT + 2,
    messages: [
      wrap(transaction('tx-1001', 'acme-checking', 'vendor-1', 4_200)),
      wrap(transaction('tx-1002', 'acme-checking', 'vendor-2', 99)),
      wrap(transaction('tx-1003', 'vendor-3', 'acme-checking', 1_000_000, 'refund')),
    ],
  },
  {
    name: 'stream-zero-messages',
    description: 'Bidi call with no request messages and no roles (u8(0) in the principal key info): the end marker alone, at seq 0.',
    principal: 'audit-bot',
    roles: [],
    method: '/ledger.v1.LedgerService/Reconcile',
    nonce: '0f0e0d0c0b0a09080706050403020100',
    issuedAtMs: ISSUED_AT + 3,
    messages: [],
  },
  {
    name: 'unary-macaroon-possession',
    description:
      'Unary call presenting a macaroon by possession (spec §11.2): the root goes with 32 zero bytes for its signature; ' +
      'possession_key = HMAC(principal_key, labels.macaroonPossession || signature); proof = HMAC(possession_key, labels.macaroonProof || nonce). ' +
      'The request MAC is under the principal key, as for every request.',
    principal: 'frontdesk',
    roles: ['teller'],
    onBehalfOf: 'alice',
    method: '/ledger.v1.LedgerService/Transfer',
    nonce: '1032547698badcfe0123456789abcdef',
    issuedAtMs: ISSUED_AT + 4,
    macaroon: { caveats: ['user alice', 'roles customer', 'presenter frontdesk', 'expires 2025-01-01T00:15:00Z'], presentation: 'possession' },
    message: wrap(transaction('tx-2001', 'alice-checking', 'bob-checking', 5_000, 'dinner')),
  },
  {
    name: 'stream-macaroon-possession',
    description: 'Client-streaming call with a macaroon by possession: the stream tags are keyed with the possession key.',
    principal: 'frontdesk',
    roles: ['teller'],
    method: '/ledger.v1.LedgerService/ImportTransactions',
    nonce: 'fedcba98765432100123456789abcdef',
    issuedAtMs: ISSUED_AT + 5,
    macaroon: { caveats: ['user alice', 'presenter frontdesk'], presentation: 'possession' },
    messages: [wrap(transaction('tx-2002', 'alice-checking', 'bob-checking', 1, ''))],
  },
  {
    name: 'unary-macaroon-handoff',
    description:
      'A hand-off (spec §11.4): principal frontdesk hands alice\'s macaroon to the service named as the last presenter ' +
      '(ledger-backend), proving possession exactly as in possession mode; the signature never crosses the wire.',
    principal: 'frontdesk',
    roles: ['teller'],
    method: '/ledger.v1.LedgerService/Transfer',
    nonce: '00000000000000000000000000000001',
    issuedAtMs: ISSUED_AT + 6,
    macaroon: { caveats: ['user alice', 'presenter frontdesk', 'presenter ledger-backend'], presentation: 'handoff' },
    message: wrap(transaction('tx-2003', 'alice-checking', 'carol-checking', 700, '')),
  },
];

// ------------------------------------------------------------------ computation

function vector(spec: Spec): EnvelopeVector {
  const roles = canonicalRoles(spec.roles);
  const stream = spec.messages !== undefined;
  const nonce = Buffer.from(spec.nonce, 'hex');
  const bodyDigest = stream ? Buffer.alloc(0) : sha256(spec.message!);

  const audienceKeyInfo = Buffer.concat([LABELS.audienceKey, lengthPrefixed(KEY_ID), lengthPrefixed(AUDIENCE)]);
  const audienceKey = deriveAudienceKey(ROOT_SECRET, KEY_ID, AUDIENCE);
  const principalKeyInfo = Buffer.concat([LABELS.principalKey, lengthPrefixed(spec.principal), Buffer.of(roles.length), ...roles.map(lengthPrefixed)]);
  const principalKey = derivePrincipalKey(audienceKey, spec.principal, roles);
  let credential = spec.credential ?? Buffer.alloc(0);
  let callKey: Buffer = principalKey;
  let macaroonOut: EnvelopeVector['macaroon'];
  if (spec.macaroon) {
    const root = vectorMacaroon(spec.macaroon.caveats);
    const signature = macaroonSignature(root, MACAROON_ROOT_KEY);
    const key = possessionKey(new MacKey(principalKey), signature);
    const proof = possessionProof(key, nonce);
    credential = encodeMacaroonCredential({ root, discharges: [], presentation: spec.macaroon.presentation }, proof);
    const keyBytes = hmacSha256(principalKey, LABELS.macaroonPossession, signature);
    callKey = keyBytes;
    macaroonOut = { signature_hex: hex(signature), possession_key_hex: hex(keyBytes), proof_hex: hex(proof) };
  }

  const envelope: Envelope = {
    version: ENVELOPE_VERSION,
    keyId: KEY_ID,
    principal: spec.principal,
    roles,
    onBehalfOf: spec.onBehalfOf ?? '',
    audience: AUDIENCE,
    method: spec.method,
    nonce,
    issuedAtMs: spec.issuedAtMs,
    bodyDigest,
    credential,
  };
  const envelopeBytes = encodeEnvelope(envelope);
  const mac = hmacSha256(principalKey, LABELS.requestMac, envelopeBytes);

  const frames: Buffer[] = [];
  if (stream) {
    const tagger = new StreamSigner(callKey, mac);
    for (const m of spec.messages!) frames.push(tagger.tagMessage(m));
    frames.push(tagger.endMarker());
  }

  return {
    name: spec.name,
    description: spec.description,
    kind: stream ? 'stream' : 'unary',
    inputs: {
      root_secret_hex: hex(ROOT_SECRET),
      key_id: KEY_ID,
      audience: AUDIENCE,
      principal: spec.principal,
      roles,
      on_behalf_of: spec.onBehalfOf ?? '',
      method: spec.method,
      nonce_hex: spec.nonce,
      issued_at_ms: spec.issuedAtMs,
      credential_hex: hex(credential),
      ...(spec.macaroon
        ? {
            macaroon: {
              root_key_hex: hex(MACAROON_ROOT_KEY),
              location: MACAROON_LOCATION,
              identifier: MACAROON_IDENTIFIER,
              caveats: spec.macaroon.caveats,
              presentation: spec.macaroon.presentation,
            },
          }
        : {}),
      ...(stream ? { messages_hex: spec.messages!.map(hex) } : { message_hex: hex(spec.message!) }),
    },
    audience_key_info_hex: hex(audienceKeyInfo),
    audience_key_hex: hex(audienceKey),
    principal_key_info_hex: hex(principalKeyInfo),
    principal_key_hex: hex(principalKey),
    envelope_hex: hex(envelopeBytes),
    mac_hex: hex(mac),
    body_digest_hex: hex(bodyDigest),
    frames_hex: frames.map(hex),
    ...(macaroonOut ? { macaroon: macaroonOut } : {}),
  };
}

export function generateEnvelopeVectors(): EnvelopeVectorFile {
  return {
    source: 'reqauth wire specification v1, docs/spec.md §10; generated by test/vectors/generate.ts',
    description:
      'Strings are UTF-8 (JSON strings); *_hex fields are lowercase hex bytes. ' +
      'audience_key = HKDF-SHA256(root_secret, salt = "", audience_key_info, 32); ' +
      'principal_key = HKDF-SHA256(audience_key, salt = "", principal_key_info, 32); ' +
      'envelope = canonical reqauth.v1.Envelope encoding; mac = HMAC-SHA256(principal_key, labels.requestMac || envelope); ' +
      'body_digest = SHA-256(message) for unary calls, empty for streams; ' +
      'frames = body || FA FF FF FF 0F || 21 || flags || HMAC-SHA256(principal_key, labels.streamTag || mac || u64be(seq) || u8(flags) || body), ' +
      'flags 00 for messages and 01 for the final end marker (empty body). ' +
      'Macaroon vectors (spec §11): signature = the root macaroon\'s HMAC chain from root_key; possession_key = HMAC-SHA256(principal_key, labels.macaroonPossession || signature); ' +
      'proof = HMAC-SHA256(possession_key, labels.macaroonProof || nonce); credential = reqauth.v1.Credential{macaroon{root (V2 binary, signature 32 zero bytes), presentation, proof}}; ' +
      'the stream tags of a macaroon call use possession_key in place of principal_key.',
    labels_hex: {
      audienceKey: hex(LABELS.audienceKey),
      principalKey: hex(LABELS.principalKey),
      requestMac: hex(LABELS.requestMac),
      streamTag: hex(LABELS.streamTag),
      macaroonPossession: hex(LABELS.macaroonPossession),
      macaroonProof: hex(LABELS.macaroonProof),
    },
    vectors: SPECS.map(vector),
  };
}

if (require.main === module) {
  process.stdout.write(JSON.stringify(generateEnvelopeVectors(), null, 2) + '\n');
}
