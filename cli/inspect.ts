// reqauth inspect: decode an envelope (the reqauth-envelope-bin value) for a human.
import { decodeEnvelope, decodeMacaroonCredential, Envelope, MAC_BYTES, macaroonIdText } from '../src';
import { CliError, Command, UsageError } from './common';
import { printableJson } from './printable';

export const inspect: Command = {
  name: 'inspect',
  summary: 'decode a reqauth-envelope-bin value and print it as JSON',
  usage: [
    'Usage: reqauth inspect BASE64',
    '',
    'Decodes the value of the reqauth-envelope-bin metadata (the envelope followed by its',
    '32-byte MAC), or bare envelope bytes, in base64 or base64url (as gRPC tools and logs',
    'print it), with the verifier\'s strict parser, and prints the envelope\'s fields as',
    'JSON. Nothing is verified and the MAC is not printed: no key is needed or used.',
    'The credential field is shown as its length and kind; a macaroon credential also as its',
    'identifier, presentation and caveat count (its signature is never on the wire).',
    'A malformed envelope exits 1 with its reason code (malformed_envelope,',
    'oversized_envelope, unsupported_version) on stderr.',
  ].join('\n'),
  options: {},
  positionals: true,
  run(_values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing BASE64 envelope' : 'expected exactly one BASE64 envelope');
    const bytes = fromBase64(positionals[0]!);
    // A metadata value ends with its MAC: read it without, then as bare envelope bytes.
    let decoded = bytes.length > MAC_BYTES ? decodeEnvelope(bytes.subarray(0, bytes.length - MAC_BYTES)) : decodeEnvelope(bytes);
    if (!decoded.ok) decoded = decodeEnvelope(bytes);
    if (!decoded.ok) throw new CliError(decoded.reason);
    io.out(printableJson(describeEnvelope(decoded.envelope), 2));
  },
};

/** base64 or base64url, padded or not; whitespace (from wrapped logs) is ignored. */
function fromBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new CliError('malformed_envelope (not base64 or base64url)');
  }
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function describeEnvelope(env: Envelope): Record<string, unknown> {
  const issued = new Date(env.issuedAtMs);
  return {
    version: env.version,
    keyId: env.keyId,
    principal: env.principal,
    roles: env.roles,
    onBehalfOf: env.onBehalfOf,
    audience: env.audience,
    method: env.method,
    nonce: Buffer.from(env.nonce).toString('hex'),
    issuedAtMs: env.issuedAtMs,
    issuedAt: Number.isNaN(issued.getTime()) ? null : issued.toISOString(),
    bodyDigest: Buffer.from(env.bodyDigest).toString('hex'),
    // A macaroon credential (spec §11) never carries its signature, so its identifier and
    // presentation are safe to show; anything else only by its size.
    credential: describeCredential(env.credential),
  };
}

function describeCredential(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length === 0) return { length: 0, kind: 'none' };
  const decoded = decodeMacaroonCredential(bytes);
  if (!decoded.ok) return { length: bytes.length, kind: 'unknown', reason: decoded.reason };
  const m = decoded.credential;
  return { length: bytes.length, kind: 'macaroon', presentation: m.presentation, macaroonId: macaroonIdText(m.root.identifier), caveats: m.root.caveats.length, discharges: m.discharges.length };
}
