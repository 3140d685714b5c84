// Valid requests to mutate: made by RequestSigner from fixed keys, a fixed clock and seeded
// nonces, with and without a macaroon presented by possession (`presentMacaroon`'s
// SignOptions), for unary calls and request streams. Nothing here hand-builds envelope or
// credential bytes, so the suites keep testing the real wire when it changes.
import {
  addFirstPartyCaveat,
  bindForRequest,
  caveat,
  ClientCredential,
  issueCredential,
  Macaroon,
  MacaroonKeyring,
  macaroonAcceptance,
  macaroonKeys,
  MemoryReplayStore,
  mintMacaroon,
  NonceSource,
  RequestSigner,
  RequestVerifier,
  RootKeyring,
  SignOptions,
  staticKeySource,
} from '../../src';
import { addThirdPartyCaveatWithNonce } from '../../src/macaroon/macaroon';
import { Prng } from '../support/vectors';

export const AUDIENCE = 'ledger';
export const TRANSFER = '/ledger.v1.LedgerService/Transfer';
export const GET_BALANCE = '/ledger.v1.LedgerService/GetBalance';
export const IMPORT = '/ledger.v1.LedgerService/ImportTransactions';
export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, the fixed clock of signer and verifier
const HOUR = 3_600_000;

export const ROOT_RING: RootKeyring = {
  format: 'reqauth-root-keyring/v1',
  keys: [
    { keyId: 'k-fuzz-2', secret: Buffer.alloc(32, 0x21), status: 'active', created: '2026-01-01T00:00:00.000Z' },
    { keyId: 'k-fuzz-1', secret: Buffer.alloc(32, 0x11), status: 'verify', created: '2025-12-01T00:00:00.000Z' },
  ],
  deny: { keyIds: [], principals: [] },
};

export const MACAROON_RING: MacaroonKeyring = {
  format: 'reqauth-macaroon-keyring/v1',
  keys: [{ keyId: 'm1', rootKey: Buffer.alloc(32, 0x6d), status: 'active' }],
  revoked: [],
};
const MACAROON_ROOT_KEY = MACAROON_RING.keys[0]!.rootKey;
const MFA_KEY = Buffer.alloc(32, 0x4d);

export const CREDENTIALS: readonly ClientCredential[] = [
  issueCredential(ROOT_RING, AUDIENCE, 'frontend', ['teller']),
  issueCredential(ROOT_RING, AUDIENCE, 'backend'),
  issueCredential(ROOT_RING, AUDIENCE, 'räkning-α', ['auditor', 'teller']),
];

/** A verifier of the world's requests, accepting possession macaroons (user and presenter required). */
export function newVerifier(): RequestVerifier {
  return new RequestVerifier({
    keys: staticKeySource(ROOT_RING, AUDIENCE),
    now: () => T0,
    replayStore: new MemoryReplayStore({ now: () => T0 }),
    macaroons: macaroonAcceptance({ keys: macaroonKeys(MACAROON_RING) }),
  });
}

/** A user's macaroon for `presenter`: plain, or narrowed and needing an MFA discharge (bound). */
function userMacaroon(user: string, presenter: string, n: number, withDischarge: boolean): { root: Macaroon; discharges: Macaroon[]; unbound: Macaroon[] } {
  let root = mintMacaroon({ rootKey: MACAROON_ROOT_KEY, identifier: `m1.session-${n}`, location: 'tokens' });
  root = addFirstPartyCaveat(root, caveat.user(user));
  root = addFirstPartyCaveat(root, caveat.expires(T0 + HOUR));
  if (!withDischarge) return { root: addFirstPartyCaveat(root, caveat.presenter(presenter)), discharges: [], unbound: [] };
  root = addFirstPartyCaveat(root, caveat.method('/ledger.v1.LedgerService/*'));
  root = addThirdPartyCaveatWithNonce(root, { caveatKey: MFA_KEY, caveatId: `mfa-${n}`, location: 'tokens' }, Buffer.alloc(24, n));
  root = addFirstPartyCaveat(root, caveat.presenter(presenter));
  const discharge = addFirstPartyCaveat(mintMacaroon({ rootKey: MFA_KEY, identifier: `mfa-${n}` }), caveat.expires(T0 + HOUR));
  return { root, discharges: [bindForRequest(root, discharge)], unbound: [discharge] };
}

export interface UnaryRequest {
  readonly value: Buffer;
  readonly method: string;
  readonly body: Buffer;
  readonly macaroon: boolean;
  readonly credential: ClientCredential;
  /** How it was signed, so a suite can re-sign variants of it. */
  readonly options: SignOptions;
}

export interface StreamRequest {
  readonly value: Buffer;
  readonly method: string;
  readonly frames: readonly Buffer[];
  readonly bodies: readonly Buffer[];
  readonly macaroon: boolean;
}

export interface World {
  readonly unary: readonly UnaryRequest[];
  readonly streams: readonly StreamRequest[];
  /** Every `reqauth-envelope-bin` value above: a mutation equal to one of these is no mutation. */
  readonly values: readonly Buffer[];
  /** The discharges of the macaroons above as their third party minted them, before binding. */
  readonly unboundDischarges: readonly Macaroon[];
}

/**
 * Nonces from a seeded generator while the world is built, so its bytes are the same on
 * every run and a failing case reproduces from the seed alone.
 */
function withSeededNonces<T>(seed: number, build: () => T): T {
  const rng = new Prng(seed);
  const original = NonceSource.prototype.next;
  NonceSource.prototype.next = () => rng.bytes(16);
  try {
    return build();
  } finally {
    NonceSource.prototype.next = original;
  }
}

let built: World | undefined;

export function world(): World {
  built ??= withSeededNonces(0x8_0010, () => {
    const unary: UnaryRequest[] = [];
    const streams: StreamRequest[] = [];
    const unboundDischarges: Macaroon[] = [];
    let n = 0;
    for (const credential of CREDENTIALS) {
      const signer = new RequestSigner(credential, { now: () => T0 });
      const variants: SignOptions[] = [{}, { onBehalfOf: 'alice' }];
      for (const withDischarge of [false, true]) {
        const m = userMacaroon(withDischarge ? 'bob' : 'alice', credential.principal, n++, withDischarge);
        variants.push({ macaroon: { root: m.root, discharges: m.discharges, presentation: 'possession' } });
        unboundDischarges.push(...m.unbound);
      }
      for (const options of variants) {
        for (const method of [TRANSFER, GET_BALANCE]) {
          const body = Buffer.from(`${method} #${n++} for ${credential.principal}`);
          unary.push({ value: signer.sign(method, body, options).value, method, body, macaroon: options.macaroon !== undefined, credential, options });
        }
        const bodies = [0, 1, 2].slice(0, 1 + (n % 3)).map((i) => Buffer.from(`import ${n} part ${i}`));
        bodies.push(Buffer.alloc(0)); // an empty message is a message too
        const { header, tagger } = signer.signStream(IMPORT, options);
        const frames = [...bodies.map((b) => tagger.tagMessage(b)), tagger.endMarker()];
        streams.push({ value: header.value, method: IMPORT, frames, bodies, macaroon: options.macaroon !== undefined });
        n++;
      }
    }
    return { unary, streams, values: [...unary.map((u) => u.value), ...streams.map((s) => s.value)], unboundDischarges };
  });
  return built;
}
