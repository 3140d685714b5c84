// Helpers for the macaroon tests: the vector files, an exact-match checker (libmacaroons'
// satisfy_exact), and a one-call "parse or fail the test".
import { expect } from 'chai';
import { loadVectors } from '../support/vectors.js';
import { parseMacaroon, type FirstPartyChecker, type Macaroon } from '../../src/macaroon/index.js';

export const loadMacaroonVectors = <T>(name: string): T => loadVectors<T>(`macaroon/${name}`);

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Satisfies exactly the listed predicates, byte for byte, and nothing else. */
export function exact(...predicates: string[]): FirstPartyChecker {
  const allowed = predicates.map(utf8);
  return (p) => allowed.some((a) => a.equals(p));
}

export function parsed(token: string): Macaroon {
  const r = parseMacaroon(token);
  if (!r.ok) expect.fail(`expected a macaroon, got ${r.reason} (${r.detail})`);
  return r.macaroon;
}
