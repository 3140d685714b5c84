// A macaroon carried in the envelope's `credential` field (docs/spec.md §11): the
// reqauth.v1.Credential codec (proto/reqauth/v1/credential.proto), and the keys that make
// possession provable without sending the macaroon's signature.
import { LABELS, MacKey } from '../crypto';
import { Macaroon, parseMacaroonBytes, serializeMacaroonBinary } from './index';
import { nextSignature, deriveKey, hash1 } from './crypto';

/** `possession`: the signature is withheld and the request MAC proves it. `bearer`: it is sent. */
export type Presentation = 'possession' | 'bearer';

export interface MacaroonPresentation {
  readonly root: Macaroon;
  /** Each bound to the root (bindForRequest). */
  readonly discharges: readonly Macaroon[];
  readonly presentation: Presentation;
}

const SIGNATURE_BYTES = 32;
const WITHHELD = new Uint8Array(SIGNATURE_BYTES);
const PRESENTATION_CODES: Readonly<Record<Presentation, number>> = { possession: 1, bearer: 2 };

/** Serialized reqauth.v1.Credential{macaroon: MacaroonCredential{...}}; canonical field order. */
export function encodeMacaroonCredential(p: MacaroonPresentation): Buffer {
  const root = serializeMacaroonBinary(p.presentation === 'possession' ? { ...p.root, signature: WITHHELD } : p.root);
  const inner = Buffer.concat([
    lenField(1, root),
    ...p.discharges.map((d) => lenField(2, serializeMacaroonBinary(d))),
    Buffer.of((3 << 3) | 0, PRESENTATION_CODES[p.presentation]),
  ]);
  return lenField(1, inner);
}

export type CredentialDecodeResult = { readonly ok: true; readonly credential: MacaroonPresentation } | { readonly ok: false };

/** Strict: unknown fields, repeated singular fields, bad macaroons and bad enums are refused. */
export function decodeMacaroonCredential(bytes: Uint8Array, maxDischarges = 16): CredentialDecodeResult {
  const outer = readFields(bytes);
  if (!outer || outer.length !== 1 || outer[0]!.field !== 1 || outer[0]!.bytes === undefined) return { ok: false };
  const fields = readFields(outer[0]!.bytes);
  if (!fields) return { ok: false };
  let root: Macaroon | undefined;
  const discharges: Macaroon[] = [];
  let presentation: Presentation | undefined;
  for (const f of fields) {
    if (f.field === 1 && f.bytes && root === undefined) {
      const parsed = parseMacaroonBytes(f.bytes);
      if (!parsed.ok) return { ok: false };
      root = parsed.macaroon;
    } else if (f.field === 2 && f.bytes && discharges.length < maxDischarges) {
      const parsed = parseMacaroonBytes(f.bytes);
      if (!parsed.ok) return { ok: false };
      discharges.push(parsed.macaroon);
    } else if (f.field === 3 && f.value !== undefined && presentation === undefined) {
      presentation = f.value === 1 ? 'possession' : f.value === 2 ? 'bearer' : undefined;
      if (!presentation) return { ok: false };
    } else {
      return { ok: false };
    }
  }
  if (!root || !presentation) return { ok: false };
  return { ok: true, credential: { root, discharges, presentation } };
}

/**
 * The root macaroon's signature as its minter computed it: the HMAC chain from the root key
 * over its identifier and caveats. In possession mode this is what the request proves.
 */
export function macaroonSignature(root: Macaroon, rootKey: Uint8Array): Buffer {
  let sig = hash1(deriveKey(rootKey), root.identifier);
  for (const caveat of root.caveats) sig = nextSignature(sig, caveat.identifier, caveat.verificationId);
  return sig;
}

/**
 * possession key = HMAC(principal key, "reqauth/v1 macaroon possession" 0x00 || signature).
 * The request MAC and stream tags are keyed with it, so a request needs both the principal
 * key and the macaroon's signature; neither a captured request nor a logged macaroon
 * (which never carries the signature in this mode) is enough.
 */
export function possessionKey(principalKey: MacKey, macaroonSignature: Uint8Array): MacKey {
  return new MacKey(principalKey.mac(LABELS.macaroonPossession, macaroonSignature));
}

// ---------------------------------------------------------------- protobuf, minimal

function lenField(field: number, value: Uint8Array): Buffer {
  const head: number[] = [(field << 3) | 2];
  for (let n = value.length; ; ) {
    if (n < 0x80) {
      head.push(n);
      break;
    }
    head.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  return Buffer.concat([Buffer.from(head), value]);
}

interface RawField {
  readonly field: number;
  readonly bytes?: Uint8Array;
  readonly value?: number;
}

/** Fields of a message with only LEN and small VARINT fields; undefined if malformed. */
function readFields(bytes: Uint8Array): RawField[] | undefined {
  const out: RawField[] = [];
  let pos = 0;
  const varint = (): number | undefined => {
    let result = 0;
    for (let i = 0, mul = 1; i < 5; i++, mul *= 128) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return b === 0 && i > 0 ? undefined : result;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === 0) {
      const value = varint();
      if (value === undefined) return undefined;
      out.push({ field, value });
    } else if (wireType === 2) {
      const len = varint();
      if (len === undefined || len > bytes.length - pos) return undefined;
      out.push({ field, bytes: bytes.subarray(pos, pos + len) });
      pos += len;
    } else {
      return undefined;
    }
  }
  return out;
}
