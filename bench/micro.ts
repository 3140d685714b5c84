// reqauth's signing and verifying work on a 1 MiB body, in this process, against one SHA-256
// pass over the same bytes (node:crypto): 1.0 means "one pass and nothing more".
//
//   sign:   the header of a unary call over the body (its SHA-256, the envelope, the MAC);
//   verify: the header's verification and the body check, with the default replay cache.
//           Headers are signed ahead of time, outside the timed loop, each with its own
//           nonce, so every timed verification is a real first sighting, never a replay.
// Interleaved per round (hash first on even rounds, last on odd), medians over rounds.
import * as crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { median } from './stats';
import { TRANSFER_PATH } from './messages';
import { CoreOps } from './reqauth-setup';

export interface MicroConfig {
  readonly rounds: number;
  /** Operations per side per round. */
  readonly iters: number;
}

export interface MicroResult {
  readonly name: string;
  /** Median ms per operation over the rounds. */
  readonly sha256Ms: number;
  readonly reqauthMs: number;
  readonly sha256Rounds: number[];
  readonly reqauthRounds: number[];
}

const hashOnce: (data: Uint8Array) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash: (a: string, d: Uint8Array, e: 'buffer') => Buffer }).hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

function timeIt(iters: number, fn: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) fn(i);
  return (performance.now() - t0) / iters;
}

export function microBenches(core: CoreOps, cfg: MicroConfig): MicroResult[] {
  const body = crypto.randomBytes(1024 * 1024);
  const iters = cfg.iters;
  let sink = 0;
  for (let i = 0; i < iters; i++) {
    sink += hashOnce(body)[0]!;
    sink += core.sign(TRANSFER_PATH, body)[0]!;
  }
  const sign: MicroResult = { name: 'sign 1 MiB vs one SHA-256 pass', sha256Ms: 0, reqauthMs: 0, sha256Rounds: [], reqauthRounds: [] };
  const verify: MicroResult = { name: 'verify 1 MiB vs one SHA-256 pass', sha256Ms: 0, reqauthMs: 0, sha256Rounds: [], reqauthRounds: [] };
  const verifyAll = (values: Buffer[]) => (i: number) => core.verify(TRANSFER_PATH, values[i]!, body);
  verifyAll(Array.from({ length: iters }, () => core.sign(TRANSFER_PATH, body)))(0); // warm the path
  for (let r = 0; r < cfg.rounds; r++) {
    const values = Array.from({ length: iters }, () => core.sign(TRANSFER_PATH, body)); // untimed
    const hashFirst = r % 2 === 0;
    const hash = () => timeIt(iters, () => (sink += hashOnce(body)[0]!));
    if (hashFirst) sign.sha256Rounds.push(hash());
    sign.reqauthRounds.push(timeIt(iters, () => (sink += core.sign(TRANSFER_PATH, body)[0]!)));
    if (!hashFirst) sign.sha256Rounds.push(hash());
    if (hashFirst) verify.sha256Rounds.push(hash());
    verify.reqauthRounds.push(timeIt(iters, verifyAll(values)));
    if (!hashFirst) verify.sha256Rounds.push(hash());
  }
  if (sink === -1) console.log(sink); // keep the results alive
  for (const m of [sign, verify]) {
    (m as { sha256Ms: number }).sha256Ms = median(m.sha256Rounds);
    (m as { reqauthMs: number }).reqauthMs = median(m.reqauthRounds);
  }
  return [sign, verify];
}
