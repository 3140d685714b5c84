// The V1 format (libmacaroons' original): base64 of a sequence of packets, each
//
//   4 lowercase hex digits: the packet's whole length, these 4 included
//   key ' ' value '\n'
//
// in the order: location? identifier (cid (vid cl?)?)* signature. The signature value is
// the 32 raw bytes. Refused: an unknown or misplaced key, upper-case or short length
// digits, a packet not ending in '\n', `cl` without `vid` (a location on a first-party
// caveat), and any byte after the signature packet.
import { refuseMacaroon, type MacaroonParseResult } from './errors.js';
import type { Macaroon } from './macaroon.js';
import type { MacaroonLimits } from './limits.js';
import { assembleMacaroon, type RawCaveat, type RawMacaroon } from './structure.js';

const MAX_PACKET = 0xffff;

export function encodePacketsV1(m: Macaroon): Buffer {
  const packets: Buffer[] = [];
  const packet = (key: string, value: Uint8Array) => {
    const size = 4 + key.length + 1 + value.length + 1;
    if (size > MAX_PACKET) throw new RangeError(`V1 packet "${key}" exceeds 65535 bytes`);
    packets.push(Buffer.from(size.toString(16).padStart(4, '0') + key + ' ', 'ascii'), Buffer.from(value), Buffer.of(0x0a));
  };
  // libmacaroons and pymacaroons always write the location packet, empty or not.
  packet('location', Buffer.from(m.location ?? '', 'utf8'));
  packet('identifier', m.identifier);
  for (const c of m.caveats) {
    packet('cid', c.identifier);
    if (c.verificationId !== undefined) {
      packet('vid', c.verificationId);
      if (c.location !== undefined) packet('cl', Buffer.from(c.location, 'utf8'));
    }
  }
  packet('signature', m.signature);
  return Buffer.concat(packets);
}

type Packet = { key: string; value: Uint8Array };

function readPacket(buf: Uint8Array, at: number): { packet: Packet; next: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  let size = 0;
  for (let i = at; i < at + 4; i++) {
    const c = buf[i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
    if (d < 0) return undefined;
    size = size * 16 + d;
  }
  const end = at + size;
  if (size < 4 + 3 || end > buf.length || buf[end - 1] !== 0x0a) return undefined;
  const body = buf.subarray(at + 4, end - 1);
  const space = body.indexOf(0x20);
  if (space <= 0) return undefined;
  const key = Buffer.from(body.subarray(0, space)).toString('latin1');
  return { packet: { key, value: body.subarray(space + 1) }, next: end };
}

export function decodePacketsV1(buf: Uint8Array, limits: MacaroonLimits): MacaroonParseResult {
  const malformed = (detail: string) => refuseMacaroon('macaroon_malformed', detail);
  if (buf.length > limits.maxBytes) return refuseMacaroon('macaroon_oversized', 'token too large');
  const packets: Packet[] = [];
  for (let at = 0; at < buf.length; ) {
    const p = readPacket(buf, at);
    if (p === undefined) return malformed(`bad V1 packet at byte ${at}`);
    if (p.packet.value.length > limits.maxFieldBytes) return refuseMacaroon('macaroon_oversized', 'V1 field too large');
    packets.push(p.packet);
    at = p.next;
    if (p.packet.key === 'signature' && at !== buf.length) return malformed('bytes after the signature');
  }
  let i = 0;
  const next = (key: string): Uint8Array | undefined => (packets[i]?.key === key ? packets[i++]!.value : undefined);
  const location = next('location');
  const identifier = next('identifier');
  if (identifier === undefined) return malformed('V1: identifier expected');
  const caveats: RawCaveat[] = [];
  for (let cid = next('cid'); cid !== undefined; cid = next('cid')) {
    if (caveats.length >= limits.maxCaveats) return refuseMacaroon('macaroon_oversized', 'too many caveats');
    const caveat: RawCaveat = { identifier: cid };
    const vid = next('vid');
    if (vid !== undefined) {
      caveat.verificationId = vid;
      const cl = next('cl');
      if (cl !== undefined) caveat.location = cl;
    } else if (packets[i]?.key === 'cl') {
      return malformed(`caveat ${caveats.length}: location on a first-party caveat`);
    }
    caveats.push(caveat);
  }
  const signature = next('signature');
  if (signature === undefined) return malformed(`V1: unexpected or missing field at packet ${i}`);
  if (i !== packets.length) return malformed('bytes after the signature');
  const raw: RawMacaroon = { identifier, caveats, signature };
  if (location !== undefined) raw.location = location;
  return assembleMacaroon(raw, limits);
}
