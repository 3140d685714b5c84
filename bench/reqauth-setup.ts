// The one place the bench builds reqauth. Everything else in bench/ treats reqauth as "a
// server setup and client options", like the other configurations (bench/configs.ts), so
// when the grpc-js binding's API changes only this file follows it.
//
// Server: ReqauthServer as the server's interceptor and `auth.addService` for the wrapped
// service (as test/support/harness.ts does), the policy from the proto's access options
// (so GetBalance and ListTransactions sign their responses; without response signing, the
// same rules with `sign_responses` off),
// macaroons accepted (so a forged macaroon credential reaches the verifier's macaroon path,
// as it would on any service that accepts delegation), an explicit MemoryReplayStore (the
// default, made here so the bench can count its entries), no audit hook, no telemetry.
// Client: reqauthClientOptions, requiring signed responses for the methods whose .proto rule
// signs them (signedResponseMethods), as a client of this service should. Forged and honest headers for the refusal-cost measurement
// come from the core's RequestSigner, so they follow any change of the wire format.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { getClaims, ReqauthServer, reqauthClientOptions } from '../interceptors';
import {
  ClientCredential,
  credentialToJson,
  ENVELOPE_KEY,
  generateMacaroonKeyring,
  generateRootKeyring,
  issueCredential,
  keyringToJson,
  macaroonAcceptance,
  macaroonKeyringToJson,
  macaroonKeys,
  MemoryReplayStore,
  parseCredential,
  parseKeyring,
  parseMacaroonKeyring,
  policyFromServiceDefinition,
  ACCESS_OPTION,
  RequestSigner,
  RequestVerifier,
  serviceKeyringFor,
  signedResponseMethods,
  staticKeySource,
  type Macaroon,
} from '../src';
import { LedgerService } from '../examples/ledger/definition';

export const AUDIENCE = 'ledger';
/** Transfer allows role "teller"; ListTransactions "teller"; ImportTransactions "importer". */
export const PRINCIPAL = 'bench-client';
export const ROLES = ['importer', 'teller'];

/** Keys for one bench run, made by the parent and handed to each child as JSON. */
export interface Material {
  readonly audience: string;
  /** The service keyring (reqauth servers). */
  readonly serviceKeyring: string;
  /** The macaroon keyring (reqauth servers); its key id is public, as in any identifier. */
  readonly macaroonKeyring: string;
  readonly macaroonKeyId: string;
  /** The client credential (reqauth clients). */
  readonly credential: string;
  /** HS256 secret, base64url (the jose JWT configuration). */
  readonly jwtSecret: string;
}

export function makeMaterial(): Material {
  const ring = generateRootKeyring();
  const macRing = generateMacaroonKeyring();
  return {
    audience: AUDIENCE,
    serviceKeyring: keyringToJson(serviceKeyringFor(ring, AUDIENCE)),
    macaroonKeyring: macaroonKeyringToJson(macRing),
    macaroonKeyId: macRing.keys[0]!.keyId,
    credential: credentialToJson(issueCredential(ring, AUDIENCE, PRINCIPAL, ROLES)),
    jwtSecret: randomBytes(32).toString('base64url'),
  };
}

export interface ServerSetup {
  readonly server: grpc.Server;
  /** Adds a service with its handlers as this configuration requires. */
  add(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void;
  /** The authenticated principal a handler sees, or undefined (the handlers count misses). */
  principalOf(call: { readonly metadata: grpc.Metadata }): string | undefined;
  /** Numbers worth reporting from inside the server (the replay cache's entries). */
  stats(): Record<string, number>;
}

/** With `signResponses: false`, no method signs its responses (the bench's reqauth-unsigned). */
export function reqauthServer(material: Material, options: grpc.ServerOptions, how: { signResponses?: boolean } = {}): ServerSetup {
  const replayStore = new MemoryReplayStore();
  const definition = how.signResponses === false ? withoutResponseSigning(LedgerService.service) : LedgerService.service;
  const auth = new ReqauthServer({
    keys: staticKeySource(parseKeyring(material.serviceKeyring), material.audience),
    policy: policyFromServiceDefinition(definition),
    replayStore,
    macaroons: macaroonAcceptance({ keys: macaroonKeys(parseMacaroonKeyring(material.macaroonKeyring)) }),
  });
  const server = new grpc.Server({ ...options, interceptors: [auth.interceptor] });
  return {
    server,
    add: (definition, implementation) => auth.addService(server, definition, implementation),
    principalOf: (call) => getClaims(call)?.principal,
    stats: () => ({ replayEntries: replayStore.size }),
  };
}

/** The service definition with every access rule's `sign_responses` turned off (for its policy only). */
function withoutResponseSigning(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const options = (method as { options?: Record<string, unknown> }).options;
    const access = options?.[ACCESS_OPTION] as Record<string, unknown> | undefined;
    out[name] = access ? { ...method, options: { ...options, [ACCESS_OPTION]: { ...access, sign_responses: false, signResponses: false } } } : method;
  }
  return out as grpc.ServiceDefinition;
}

/** With `signedResponses: false`, the client requires no signed response (reqauth-unsigned). */
export function reqauthClient(material: Material, how: { signedResponses?: boolean } = {}): grpc.ClientOptions {
  const requireSignedResponses = how.signedResponses === false ? undefined : signedResponseMethods(LedgerService.service);
  return reqauthClientOptions({ credential: parseCredential(material.credential), requireSignedResponses });
}

// ------------------------------------------------------------------ refusal cost

export type HeaderVariant = 'honest' | 'forged-principal' | 'forged-macaroon-256';

/**
 * `count` metadata sets for unary calls of `method` with `body`, each used once:
 * - honest: signed with the real credential, fresh nonce; accepted.
 * - forged-principal: the real key id (it is sent in clear), a new random principal each
 *   time (so the server's derived-key cache misses), a MAC under a random key.
 * - forged-macaroon-256: the same, plus a macaroon credential under the real macaroon key
 *   id with 256 tiny third-party caveats (1-byte id, 1-byte verification id: the largest
 *   caveat count the parser takes, in the fewest bytes) and a fresh identifier each time.
 */
export function requestHeaders(material: Material, variant: HeaderVariant, count: number, method: string, body: Buffer): { metadata: grpc.Metadata[]; valueBytes: number } {
  const real = parseCredential(material.credential);
  const honest = new RequestSigner(real);
  const caveats = Array.from({ length: 256 }, (_, i) => ({ identifier: Uint8Array.of(i), verificationId: Uint8Array.of(0) }));
  const out: grpc.Metadata[] = [];
  let valueBytes = 0;
  for (let i = 0; i < count; i++) {
    let value: Buffer;
    if (variant === 'honest') {
      value = honest.sign(method, body).value;
    } else {
      const forger: ClientCredential = { ...real, principal: `mallory-${randomBytes(12).toString('base64url')}`, principalKey: randomBytes(32) };
      const signer = new RequestSigner(forger);
      if (variant === 'forged-principal') {
        value = signer.sign(method, body).value;
      } else {
        const root: Macaroon = {
          identifier: Buffer.from(`${material.macaroonKeyId}.${randomBytes(16).toString('base64url')}`),
          caveats,
          signature: randomBytes(32),
        };
        value = signer.sign(method, body, { macaroon: { root, discharges: [], presentation: 'possession' } }).value;
      }
    }
    const md = new grpc.Metadata();
    md.set(ENVELOPE_KEY, value);
    out.push(md);
    valueBytes = value.length;
  }
  return { metadata: out, valueBytes };
}

/** The size of reqauth's metadata value for a unary call (for the floor's comparison). */
export function headerBytes(material: Material, method: string, body: Buffer): number {
  return new RequestSigner(parseCredential(material.credential)).sign(method, body).value.length;
}


// ------------------------------------------------------------------ the core alone

export interface CoreOps {
  /** Signs a unary call's header over `body`; returns the metadata value. */
  sign(method: string, body: Uint8Array): Buffer;
  /** Verifies a header value and `body` as a server would (replay cache included); throws on refusal. */
  verify(method: string, value: Buffer, body: Uint8Array): void;
}

/** RequestSigner and RequestVerifier (default MemoryReplayStore), for the 1 MiB micro benches. */
export function coreOps(material: Material): CoreOps {
  const signer = new RequestSigner(parseCredential(material.credential));
  const verifier = new RequestVerifier({ keys: staticKeySource(parseKeyring(material.serviceKeyring), material.audience) });
  return {
    sign: (method, body) => signer.sign(method, body).value,
    verify(method, value, body) {
      const verdict = verifier.verifyHeader([value], method, true);
      if (verdict instanceof Promise || !verdict.ok) throw new Error(`verify failed: ${JSON.stringify(verdict)}`);
      const bad = verdict.header.checkBody(body);
      if (bad) throw new Error(`checkBody failed: ${bad.reason}`);
    },
  };
}
