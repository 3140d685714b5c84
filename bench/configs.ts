// The five configurations the bench compares, each a server setup plus client options:
//
//   plain    grpc-js, nothing added.
//   noop     a client and a server interceptor that pass everything through: what any
//            interceptor-based design pays before it does anything.
//   floor    the no-op pair, plus one unique 200-byte binary metadata entry per call (the
//            client sets it, the server reads, checks and removes it), no crypto: the floor
//            of a design that sends one per-request header — a unique value defeats the
//            HTTP/2 header table, as a MAC or nonce does.
//   reqauth  reqauth (bench/reqauth-setup.ts): the methods whose .proto rule says
//            sign_responses (GetBalance, ListTransactions) sign their responses, and the
//            client requires them signed.
//   jwt      what users pick instead: the client interceptor signs a jose HS256 JWT per call
//            (sub, aud, method, iat, exp, jti) into `authorization`; the server interceptor
//            verifies it (algorithm, audience, expiry, method) before the handler. No body
//            binding, no replay cache. The key is a pre-imported CryptoKey, jose's fastest.
//
// One more, for the response-signing section only (bench.ts, issue 12 item 6):
//   reqauth-unsigned  reqauth with no method signing its responses, and a client that
//                     requires none: the same calls without response signing.
import { randomBytes, webcrypto } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type * as Jose from 'jose';
import { Material, reqauthClient, reqauthServer, ServerSetup } from './reqauth-setup';

export const CONFIGS = ['plain', 'noop', 'floor', 'reqauth', 'jwt'] as const;
/** Configurations only the response-signing section runs (not in the main grid). */
export const RESPONSE_CONFIGS = ['reqauth-unsigned'] as const;
export type ConfigName = (typeof CONFIGS)[number] | (typeof RESPONSE_CONFIGS)[number];

export const CONFIG_LABELS: Readonly<Record<ConfigName, string>> = {
  plain: 'plain grpc-js',
  noop: 'no-op interceptor pair',
  floor: 'floor: no-op pair + 200 B md',
  reqauth: 'reqauth',
  jwt: 'jose HS256 JWT pair',
  'reqauth-unsigned': 'reqauth, responses unsigned',
};

export const FLOOR_KEY = 'x-bench-floor-bin';
export const FLOOR_BYTES = 200;

export function isConfig(name: string): name is ConfigName {
  return (CONFIGS as readonly string[]).includes(name) || (RESPONSE_CONFIGS as readonly string[]).includes(name);
}

// ------------------------------------------------------------------ servers

export async function serverSetup(config: ConfigName, material: Material, options: grpc.ServerOptions): Promise<ServerSetup> {
  switch (config) {
    case 'plain':
      return simpleServer(new grpc.Server(options));
    case 'noop':
      return simpleServer(new grpc.Server({ ...options, interceptors: [metadataInterceptor((md, next) => next(md))] }));
    case 'floor':
      return simpleServer(new grpc.Server({ ...options, interceptors: [floorServerInterceptor()] }));
    case 'reqauth':
      return reqauthServer(material, options);
    case 'reqauth-unsigned':
      return reqauthServer(material, options, { signResponses: false });
    case 'jwt':
      return jwtServer(await import('jose'), await hmacKey(material), material.audience, options);
  }
}

function simpleServer(server: grpc.Server, principals?: WeakMap<grpc.Metadata, string>): ServerSetup {
  return {
    server,
    add: (definition, implementation) => server.addService(definition, implementation),
    principalOf: (call) => principals?.get(call.metadata),
    stats: () => ({}),
  };
}

type OnMetadata = (md: grpc.Metadata, next: (md: grpc.Metadata) => void, call: grpc.ServerInterceptingCallInterface, path: string) => void;

/** A server interceptor that sees only the metadata (grpc-js lets `next` be called later). */
function metadataInterceptor(onMetadata: OnMetadata): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const listener = new grpc.ServerListenerBuilder().withOnReceiveMetadata((md, next) => onMetadata(md, next, call, descriptor.path)).build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

function refuse(call: grpc.ServerInterceptingCallInterface): void {
  call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'request authentication failed', metadata: new grpc.Metadata() });
}

function floorServerInterceptor(): grpc.ServerInterceptor {
  return metadataInterceptor((md, next, call) => {
    const values = md.get(FLOOR_KEY);
    const v = values[0];
    if (values.length !== 1 || !Buffer.isBuffer(v) || v.length !== FLOOR_BYTES) return refuse(call);
    md.remove(FLOOR_KEY);
    next(md);
  });
}

// jose is loaded only by the jwt processes (it is ESM; loading it costs every process ~0.15 s).
function jwtServer(jose: typeof Jose, key: webcrypto.CryptoKey, audience: string, options: grpc.ServerOptions): ServerSetup {
  const principals = new WeakMap<grpc.Metadata, string>();
  const verifyOptions: Jose.JWTVerifyOptions = { algorithms: ['HS256'], audience };
  const interceptor = metadataInterceptor((md, next, call, path) => {
    const auth = md.get('authorization')[0];
    if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return refuse(call);
    jose.jwtVerify(auth.slice(7), key, verifyOptions).then(
      ({ payload }) => {
        if (payload['method'] !== path || typeof payload.sub !== 'string') return refuse(call);
        md.remove('authorization');
        principals.set(md, payload.sub);
        next(md);
      },
      () => refuse(call),
    );
  });
  return simpleServer(new grpc.Server({ ...options, interceptors: [interceptor] }), principals);
}

// ------------------------------------------------------------------ clients

export async function clientOptions(config: ConfigName, material: Material, principal: string): Promise<grpc.ClientOptions> {
  switch (config) {
    case 'plain':
      return {};
    case 'noop':
      return { interceptors: [metadataClientInterceptor(() => undefined)] };
    case 'floor':
      return { interceptors: [metadataClientInterceptor(floorEntry)] };
    case 'reqauth':
      return reqauthClient(material);
    case 'reqauth-unsigned':
      return reqauthClient(material, { signedResponses: false });
    case 'jwt':
      return { interceptors: [jwtClientInterceptor(await import('jose'), await hmacKey(material), principal, material.audience)] };
  }
}

/** A client interceptor that may amend the metadata at start, and passes all else through. */
function metadataClientInterceptor(amend: (md: grpc.Metadata) => void): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        amend(metadata);
        next(metadata, listener);
      },
    });
}

// 200 bytes, unique per call: a counter over random filler (no crypto per call).
const FILLER = randomBytes(64 * 1024);
let floorCounter = 0;
function floorEntry(md: grpc.Metadata): void {
  const at = (floorCounter * 199) % (FILLER.length - FLOOR_BYTES);
  const value = Buffer.allocUnsafe(FLOOR_BYTES);
  FILLER.copy(value, 0, at, at + FLOOR_BYTES);
  value.writeUInt32BE(floorCounter++ >>> 0, 0);
  md.set(FLOOR_KEY, value);
}

function jwtClientInterceptor(jose: typeof Jose, key: webcrypto.CryptoKey, principal: string, audience: string): grpc.Interceptor {
  return (options, nextCall) => {
    const method = options.method_definition.path;
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const now = Math.floor(Date.now() / 1000);
        new jose.SignJWT({ method })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(principal)
          .setAudience(audience)
          .setIssuedAt(now)
          .setExpirationTime(now + 60)
          .setJti(randomBytes(16).toString('base64url'))
          .sign(key)
          .then(
            (token) => {
              metadata.set('authorization', `Bearer ${token}`);
              next(metadata, listener);
            },
            () => next(metadata, listener), // unsigned: the server refuses, the bench aborts
          );
      },
    });
  };
}

function hmacKey(material: Material): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', Buffer.from(material.jwtSecret, 'base64url'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}
