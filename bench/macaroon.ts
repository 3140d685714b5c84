// Macaroon verification against two other token verifiers, in one process and one run
// (issue 4 item 8):
//
//   reqauth:   parseMacaroon (V2 binary, base64url) of the root and of the discharge, then
//              verifyMacaroon: a root with 5 first-party caveats and one third-party caveat,
//              and that caveat's discharge bound to the root.
//   macaroon:  the npm `macaroon` package (js-macaroon) verifying the very same two tokens:
//              importMacaroon (it decodes the same base64url V2 binary) then verify.
//   jose:      jwtVerify of an HS256 JWT with 6 claims (iss, sub, aud, exp, nbf, and a
//              "method"), checking issuer and audience (exp and nbf are checked by jose),
//              with the key pre-imported as a CryptoKey (jose's fastest path; see below).
//
// Every side starts from the token text a server receives and ends with a verdict, so each
// pays its own parsing. The first-party caveats are checked by exact match against the 5
// expected predicates (libmacaroons' satisfy_exact), on both macaroon sides, so what is
// measured is verification, not a policy. Every operation's verdict is checked: a refusal
// aborts the bench rather than counting as a fast success.
//
// Fairness as in the micro benches of bench.ts: all sides warm up first; then rounds, each
// running every side for the same time, the order rotating per round so drift loads all
// sides alike; ops/s is the median over rounds per side.
import { webcrypto } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as jose from 'jose';
import * as js from 'macaroon';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  mintMacaroon,
  parseMacaroon,
  serializeMacaroon,
  verifyMacaroon,
  type FirstPartyChecker,
} from '../src/macaroon/index.js';

export interface MacaroonBenchConfig {
  readonly warmupMs: number;
  /** How long each side runs per round. */
  readonly runMs: number;
  readonly rounds: number;
}

export interface ComparisonResult {
  readonly name: string;
  readonly other: string;
  /** Median ops/s over the rounds. */
  readonly theirs: number;
  readonly ours: number;
  /** ours / theirs. */
  readonly ratio: number;
  readonly target: number;
  readonly roundsTheirs: number[];
  readonly roundsOurs: number[];
}

const PREDICATES = ['user = alice', 'principal = frontend', 'role = teller', 'method = /ledger.v1.LedgerService/Transfer', 'expires = 2099-01-01T00:00:00Z'];
const DISCHARGE_ID = 'auth-service: alice logged in';

type Op = () => void | Promise<void>;

interface Side {
  readonly name: string;
  readonly op: Op;
  readonly async: boolean;
  readonly rounds: number[];
}

/** Runs `op` for about `ms` (checking the clock every 32 ops); ops/s. */
async function runFor(side: Side, ms: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  let now = t0;
  if (side.async) {
    do {
      for (let i = 0; i < 32; i++) await side.op();
      n += 32;
      now = performance.now();
    } while (now < deadline);
  } else {
    do {
      for (let i = 0; i < 32; i++) side.op();
      n += 32;
      now = performance.now();
    } while (now < deadline);
  }
  return n / ((now - t0) / 1000);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The token set every side verifies, and the three verifiers. */
export async function macaroonSides(): Promise<{ reqauth: Op; macaroon: Op; jose: Op; describe: Record<string, unknown> }> {
  const rootKey = webcrypto.getRandomValues(Buffer.alloc(32));
  const caveatKey = webcrypto.getRandomValues(Buffer.alloc(32));
  let root = mintMacaroon({ rootKey, identifier: 'key-1/macaroon-0001', location: 'https://ledger' });
  for (const p of PREDICATES) root = addFirstPartyCaveat(root, p);
  root = addThirdPartyCaveat(root, { caveatKey, caveatId: DISCHARGE_ID, location: 'https://auth' });
  const discharge = bindForRequest(root, mintMacaroon({ rootKey: caveatKey, identifier: DISCHARGE_ID, location: 'https://auth' }));
  const rootToken = serializeMacaroon(root, 'v2');
  const dischargeToken = serializeMacaroon(discharge, 'v2');

  const allowed = PREDICATES.map((p) => Buffer.from(p, 'utf8'));
  const check: FirstPartyChecker = (p) => {
    for (const a of allowed) if (a.equals(p)) return true;
    return false;
  };
  const reqauth: Op = () => {
    const r = parseMacaroon(rootToken);
    const d = parseMacaroon(dischargeToken);
    if (!r.ok || !d.ok) throw new Error('reqauth: parse failed');
    const v = verifyMacaroon(r.macaroon, rootKey, [d.macaroon], check);
    if (!v.ok) throw new Error(`reqauth: ${v.reason}`);
  };

  const allowedText = new Set(PREDICATES);
  const theirCheck = (cond: string) => (allowedText.has(cond) ? null : `unsatisfied: ${cond}`);
  const macaroon: Op = () => {
    const m = js.importMacaroon(rootToken);
    const d = js.importMacaroon(dischargeToken);
    m.verify(rootKey, theirCheck, [d]); // throws on refusal
  };

  // jose: HS256 over a comparable claim set. The key is imported once as a CryptoKey: given
  // raw bytes, jose would import them on every call (measured slower), so this is its best case.
  const secret = webcrypto.getRandomValues(new Uint8Array(32));
  const key = await webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new jose.SignJWT({ method: '/ledger.v1.LedgerService/Transfer' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://auth')
    .setSubject('alice')
    .setAudience('ledger')
    .setNotBefore(now - 60)
    .setExpirationTime(now + 3600 * 24 * 365)
    .sign(key);
  const options: jose.JWTVerifyOptions = { algorithms: ['HS256'], issuer: 'https://auth', audience: 'ledger' };
  const joseOp: Op = async () => {
    const { payload } = await jose.jwtVerify(jwt, key, options);
    if (payload.sub !== 'alice') throw new Error('jose: wrong subject');
  };

  // Each verifier accepts its token once before timing, and refuses a tampered one.
  reqauth();
  macaroon();
  await joseOp();
  const tampered = verifyMacaroon(root, rootKey, [], check);
  if (tampered.ok) throw new Error('reqauth accepted a root without its discharge');

  return {
    reqauth,
    macaroon,
    jose: joseOp,
    describe: {
      macaroon: `V2 binary base64url: root ${rootToken.length} chars (5 first-party caveats + 1 third-party), discharge ${dischargeToken.length} chars (bound)`,
      jwt: `HS256 compact JWS, ${jwt.length} chars, claims iss sub aud nbf exp method`,
      checker: 'exact match of the 5 predicates on both macaroon sides; jose checks iss/aud/exp/nbf',
    },
  };
}

export async function macaroonBenches(cfg: MacaroonBenchConfig): Promise<{ results: ComparisonResult[]; describe: Record<string, unknown> }> {
  const s = await macaroonSides();
  const sides: Side[] = [
    { name: 'reqauth', op: s.reqauth, async: false, rounds: [] },
    { name: 'macaroon', op: s.macaroon, async: false, rounds: [] },
    { name: 'jose', op: s.jose, async: true, rounds: [] },
  ];
  for (const side of sides) await runFor(side, cfg.warmupMs);
  for (let r = 0; r < cfg.rounds; r++) {
    // Rotate the order: r=0 abc, r=1 bca, r=2 cab, ...
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(r + k) % sides.length]!;
      side.rounds.push(await runFor(side, cfg.runMs));
    }
  }
  const [ours, npmMacaroon, joseSide] = sides as [Side, Side, Side];
  const compare = (name: string, other: Side, target: number): ComparisonResult => {
    const theirs = median(other.rounds);
    const oursMedian = median(ours.rounds);
    return { name, other: other.name, theirs, ours: oursMedian, ratio: oursMedian / theirs, target, roundsTheirs: other.rounds, roundsOurs: ours.rounds };
  };
  return {
    results: [
      compare('macaroon verify 5 caveats + discharge vs npm macaroon', npmMacaroon, 2),
      compare('macaroon verify 5 caveats + discharge vs jose HS256 JWT', joseSide, 1),
    ],
    describe: s.describe,
  };
}
