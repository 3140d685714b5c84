// The V2 JSON format (libmacaroons doc/format.txt):
//
//   {"v":2, "l":location?, "i"|"i64":identifier, "c":[caveat...], "s"|"s64":signature}
//   caveat: {"i"|"i64":id, "v"|"v64":vid?, "l":location?}
//
// A field named x holds UTF-8 text, x64 the same bytes in base64 (either alphabet, padding
// optional). Refused: both x and x64, an unknown field, a duplicate key, a value of the wrong
// JSON type (null included), "v" other than 2, a location on a first-party caveat, a
// signature that does not decode to 32 bytes. go-macaroon and pymacaroons write no "v"; it
// is optional on input and written on output (libmacaroons' format names it).
import { decodeBase64, encodeBase64Url } from './base64.js';
import { refuseMacaroon, type MacaroonParseResult } from './errors.js';
import type { Macaroon } from './macaroon.js';
import type { MacaroonLimits } from './limits.js';
import { parseStrictJson, type Json } from './strict-json.js';
import { assembleMacaroon, utf8, type RawCaveat, type RawMacaroon } from './structure.js';

export function encodeJsonV2(m: Macaroon): string {
  const out: Record<string, unknown> = { v: 2 };
  if (m.location !== undefined) out['l'] = m.location;
  putBinary(out, 'i', m.identifier);
  out['c'] = m.caveats.map((c) => {
    const cav: Record<string, unknown> = {};
    putBinary(cav, 'i', c.identifier);
    if (c.verificationId !== undefined) cav['v64'] = encodeBase64Url(c.verificationId);
    if (c.location !== undefined) cav['l'] = c.location;
    return cav;
  });
  out['s64'] = encodeBase64Url(m.signature);
  return JSON.stringify(out);
}

/** Text when the bytes are UTF-8 (as go-macaroon and pymacaroons choose), else base64. */
function putBinary(obj: Record<string, unknown>, name: string, bytes: Uint8Array): void {
  const text = utf8(bytes);
  if (text !== undefined) obj[name] = text;
  else obj[name + '64'] = encodeBase64Url(bytes);
}

const TOP_FIELDS = new Set(['v', 'l', 'i', 'i64', 'c', 's', 's64']);
const CAVEAT_FIELDS = new Set(['i', 'i64', 'v', 'v64', 'l']);

type Obj = { [key: string]: Json };
const isObject = (j: Json | undefined): j is Obj => typeof j === 'object' && j !== null && !Array.isArray(j);

/** The bytes of field `name` given as text or base64; null if absent; string if invalid. */
function binary(obj: Obj, name: string): Uint8Array | null | string {
  const text = obj[name];
  const b64 = obj[name + '64'];
  if (text !== undefined && b64 !== undefined) return `both "${name}" and "${name}64"`;
  if (text !== undefined) return typeof text === 'string' ? Buffer.from(text, 'utf8') : `"${name}" is not a string`;
  if (b64 !== undefined) {
    if (typeof b64 !== 'string') return `"${name}64" is not a string`;
    return decodeBase64(b64) ?? `"${name}64" is not base64`;
  }
  return null;
}

export function decodeJsonV2(text: string, limits: MacaroonLimits): MacaroonParseResult {
  const malformed = (detail: string) => refuseMacaroon('macaroon_malformed', detail);
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) return refuseMacaroon('macaroon_oversized', 'token too large');
  const top = parseStrictJson(text);
  if (!isObject(top)) return malformed('not a JSON object');
  for (const k of Object.keys(top)) if (!TOP_FIELDS.has(k)) return malformed('unknown field');
  if (top['v'] !== undefined && top['v'] !== 2 && top['v'] !== '2') return malformed('"v" is not 2');
  const identifier = binary(top, 'i');
  if (typeof identifier === 'string') return malformed(identifier);
  if (identifier === null) return malformed('no identifier');
  const signature = binary(top, 's');
  if (typeof signature === 'string') return malformed(signature);
  if (signature === null) return malformed('no signature');
  const location = top['l'];
  if (location !== undefined && typeof location !== 'string') return malformed('"l" is not a string');
  const list = top['c'] ?? [];
  if (!Array.isArray(list)) return malformed('"c" is not an array');
  if (list.length > limits.maxCaveats) return refuseMacaroon('macaroon_oversized', 'too many caveats');
  const caveats: RawCaveat[] = [];
  for (let n = 0; n < list.length; n++) {
    const c = list[n];
    if (!isObject(c)) return malformed(`caveat ${n}: not an object`);
    for (const k of Object.keys(c)) if (!CAVEAT_FIELDS.has(k)) return malformed(`caveat ${n}: unknown field`);
    const id = binary(c, 'i');
    if (typeof id === 'string') return malformed(`caveat ${n}: ${id}`);
    if (id === null) return malformed(`caveat ${n}: no identifier`);
    const vid = binary(c, 'v');
    if (typeof vid === 'string') return malformed(`caveat ${n}: ${vid}`);
    const loc = c['l'];
    if (loc !== undefined && typeof loc !== 'string') return malformed(`caveat ${n}: "l" is not a string`);
    const caveat: RawCaveat = { identifier: id };
    if (vid !== null) caveat.verificationId = vid;
    if (loc !== undefined) caveat.location = Buffer.from(loc, 'utf8');
    caveats.push(caveat);
  }
  const raw: RawMacaroon = { identifier, caveats, signature };
  if (location !== undefined) raw.location = Buffer.from(location, 'utf8');
  return assembleMacaroon(raw, limits);
}
