// One entry point for untrusted tokens in any of the three formats, and the writers.
//
// Text tokens: JSON starts with '{'; anything else is base64 whose bytes start with the V2
// version byte (0x02) or, for V1, with a packet's hex length digit (the same test go-macaroon
// and pymacaroons use). Byte tokens (e.g. the envelope's credential field) are the decoded
// forms: V2 binary, V1 packets, or JSON text.
import { decodeBase64, encodeBase64Url } from './base64.js';
import { decodeBinaryV2, encodeBinaryV2, V2_VERSION } from './binary-v2.js';
import { refuseMacaroon, type MacaroonParseResult } from './errors.js';
import { decodeJsonV2, encodeJsonV2 } from './json-v2.js';
import { withDefaults, type MacaroonLimits } from './limits.js';
import type { Macaroon } from './macaroon.js';
import { decodePacketsV1, encodePacketsV1 } from './text-v1.js';

export type MacaroonFormat = 'v1' | 'v2' | 'v2json';

/** V2 binary, base64url without padding: the default wire form. */
export function serializeMacaroon(m: Macaroon, format: MacaroonFormat = 'v2'): string {
  switch (format) {
    case 'v2':
      return encodeBase64Url(encodeBinaryV2(m));
    case 'v1':
      return encodeBase64Url(encodePacketsV1(m));
    case 'v2json':
      return encodeJsonV2(m);
  }
}

/** The V2 binary bytes, unencoded. */
export function serializeMacaroonBinary(m: Macaroon): Buffer {
  return encodeBinaryV2(m);
}

const isHexDigit = (b: number | undefined) => b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66));

/** A macaroon from untrusted text (V1, V2 base64, V2 JSON). Never throws. */
export function parseMacaroon(token: string, limits?: Partial<MacaroonLimits>): MacaroonParseResult {
  const l = withDefaults(limits);
  if (typeof token !== 'string') return refuseMacaroon('macaroon_malformed', 'not a string');
  if (token.length > Math.ceil(l.maxBytes / 3) * 4 + 4) return refuseMacaroon('macaroon_oversized', 'token too large');
  if (token.startsWith('{')) return decodeJsonV2(token, l);
  const bytes = decodeBase64(token);
  if (bytes === undefined || bytes.length === 0) return refuseMacaroon('macaroon_malformed', 'not base64');
  if (bytes[0] === V2_VERSION) return decodeBinaryV2(bytes, l);
  if (isHexDigit(bytes[0])) return decodePacketsV1(bytes, l);
  return refuseMacaroon('macaroon_malformed', 'unknown macaroon format');
}

/** A macaroon from untrusted bytes (V2 binary, V1 packets, JSON text). Never throws. */
export function parseMacaroonBytes(bytes: Uint8Array, limits?: Partial<MacaroonLimits>): MacaroonParseResult {
  const l = withDefaults(limits);
  if (!(bytes instanceof Uint8Array)) return refuseMacaroon('macaroon_malformed', 'not bytes');
  if (bytes.length > l.maxBytes) return refuseMacaroon('macaroon_oversized', 'token too large');
  if (bytes[0] === V2_VERSION) return decodeBinaryV2(bytes, l);
  if (isHexDigit(bytes[0])) return decodePacketsV1(bytes, l);
  if (bytes[0] === 0x7b) {
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      return decodeJsonV2(text.decode(bytes), l);
    } catch {
      return refuseMacaroon('macaroon_malformed', 'JSON is not UTF-8');
    }
  }
  return refuseMacaroon('macaroon_malformed', 'unknown macaroon format');
}
