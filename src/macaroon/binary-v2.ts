// The V2 binary format (libmacaroons doc/format.txt), strictly:
//
//   macaroon: 0x02 [LOCATION] IDENTIFIER EOS caveat* EOS SIGNATURE
//   caveat:   [LOCATION] IDENTIFIER [VID] EOS
//   field:    type(varint) length(varint) bytes;  EOS is the single byte 0
//   types:    LOCATION=1 IDENTIFIER=2 VID=4 SIGNATURE=6
//
// Refused: a field type not allowed at its place or out of order (each section's fields in
// ascending type order, each at most once), a non-minimal varint (two encodings, one token),
// a length past the end or beyond the field bound, a location on a first-party caveat, an
// empty location, a signature that is not 32 bytes, and any byte after the signature.
import { refuseMacaroon, type MacaroonParseResult } from './errors.js';
import type { Macaroon } from './macaroon.js';
import type { MacaroonLimits } from './limits.js';
import { assembleMacaroon, type RawCaveat } from './structure.js';

export const V2_VERSION = 2;
const EOS = 0;
const LOCATION = 1;
const IDENTIFIER = 2;
const VID = 4;
const SIGNATURE = 6;

export function encodeBinaryV2(m: Macaroon): Buffer {
  const out: number[] = [V2_VERSION];
  const field = (type: number, data: Uint8Array) => {
    varint(out, type);
    varint(out, data.length);
    for (const b of data) out.push(b);
  };
  if (m.location !== undefined) field(LOCATION, Buffer.from(m.location, 'utf8'));
  field(IDENTIFIER, m.identifier);
  out.push(EOS);
  for (const c of m.caveats) {
    if (c.location !== undefined) field(LOCATION, Buffer.from(c.location, 'utf8'));
    field(IDENTIFIER, c.identifier);
    if (c.verificationId !== undefined) field(VID, c.verificationId);
    out.push(EOS);
  }
  out.push(EOS);
  field(SIGNATURE, m.signature);
  return Buffer.from(out);
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

type Field = { type: number; data: Uint8Array };

class Reader {
  at = 1; // after the version byte
  constructor(private readonly buf: Uint8Array, private readonly maxField: number) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  /** A minimal varint below 2^28 (every bound here is far smaller), or undefined. */
  private varint(): number | undefined {
    let n = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.at >= this.buf.length) return undefined;
      const b = this.buf[this.at++]!;
      n += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return b === 0 && shift > 0 ? undefined : n; // trailing zero group: not minimal
    }
    return undefined;
  }

  /** The next field, EOS as type 0 with no data; a string says what is wrong. */
  field(): Field | 'malformed' | 'oversized' {
    const type = this.varint();
    if (type === undefined) return 'malformed';
    if (type === EOS) return { type, data: new Uint8Array(0) };
    const length = this.varint();
    if (length === undefined) return 'malformed';
    if (length > this.maxField) return 'oversized';
    if (this.at + length > this.buf.length) return 'malformed';
    const data = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return { type, data };
  }

  /** Fields up to and excluding the next EOS, in strictly ascending type order. */
  section(allowed: readonly number[]): Field[] | 'malformed' | 'oversized' {
    const fields: Field[] = [];
    for (;;) {
      const f = this.field();
      if (typeof f === 'string') return f;
      if (f.type === EOS) return fields;
      if (!allowed.includes(f.type)) return 'malformed';
      if (fields.length > 0 && fields[fields.length - 1]!.type >= f.type) return 'malformed';
      fields.push(f);
    }
  }
}

export function decodeBinaryV2(buf: Uint8Array, limits: MacaroonLimits): MacaroonParseResult {
  const refuse = (r: 'malformed' | 'oversized', detail: string) => refuseMacaroon(r === 'malformed' ? 'macaroon_malformed' : 'macaroon_oversized', detail);
  if (buf.length > limits.maxBytes) return refuseMacaroon('macaroon_oversized', 'token too large');
  if (buf.length === 0 || buf[0] !== V2_VERSION) return refuseMacaroon('macaroon_malformed', 'not a V2 macaroon');
  const r = new Reader(buf, limits.maxFieldBytes);

  const header = r.section([LOCATION, IDENTIFIER]);
  if (typeof header === 'string') return refuse(header, 'header');
  const hdr = fieldsByType(header);
  if (hdr.get(IDENTIFIER) === undefined) return refuseMacaroon('macaroon_malformed', 'header: no identifier');
  const hdrLocation = hdr.get(LOCATION);
  if (hdrLocation !== undefined && hdrLocation.length === 0) return refuseMacaroon('macaroon_malformed', 'header: empty location field');

  const caveats: RawCaveat[] = [];
  for (;;) {
    const section = r.section([LOCATION, IDENTIFIER, VID]);
    if (typeof section === 'string') return refuse(section, `caveat ${caveats.length}`);
    if (section.length === 0) break; // the EOS that ends the caveat list
    if (caveats.length >= limits.maxCaveats) return refuseMacaroon('macaroon_oversized', 'too many caveats');
    const f = fieldsByType(section);
    const identifier = f.get(IDENTIFIER);
    if (identifier === undefined) return refuseMacaroon('macaroon_malformed', `caveat ${caveats.length}: no identifier`);
    const location = f.get(LOCATION);
    if (location !== undefined && location.length === 0) return refuseMacaroon('macaroon_malformed', `caveat ${caveats.length}: empty location field`);
    const caveat: RawCaveat = { identifier };
    if (location !== undefined) caveat.location = location;
    const vid = f.get(VID);
    if (vid !== undefined) caveat.verificationId = vid;
    caveats.push(caveat);
  }

  const sig = r.field();
  if (typeof sig === 'string') return refuse(sig, 'signature');
  if (sig.type !== SIGNATURE) return refuseMacaroon('macaroon_malformed', 'signature field expected');
  if (!r.done) return refuseMacaroon('macaroon_malformed', 'bytes after the signature');
  const raw = { identifier: hdr.get(IDENTIFIER)!, caveats, signature: sig.data };
  return assembleMacaroon(hdrLocation === undefined ? raw : { ...raw, location: hdrLocation }, limits);
}

function fieldsByType(fields: Field[]): Map<number, Uint8Array> {
  return new Map(fields.map((f) => [f.type, f.data]));
}
