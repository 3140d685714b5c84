// reqauth macaroon revoke: add macaroon identifiers to a macaroon keyring's revocation list.
import { readFileSync } from 'node:fs';
import { macaroonIdFromText, macaroonKeyringToJson, parseMacaroonKeyring, revokeMacaroons } from '../src';
import { CliError, Command, requireString, rewriteInPlace, UsageError } from './common';

export const macaroonRevoke: Command = {
  name: 'revoke',
  summary: 'revoke macaroons by identifier in a macaroon keyring',
  usage: [
    'Usage: reqauth macaroon revoke --keyring FILE ID...',
    '',
    'Adds each ID to the "revoked" list of the macaroon keyring in FILE (rewritten',
    'atomically). ID is the macaroon identifier as claims, audit records (reqauth.macaroon_id)',
    'and `reqauth macaroon inspect` (its "id") name it: the identifier\'s text, or',
    '"base64url:" and its bytes. Services watching FILE refuse the macaroon (revoked_macaroon)',
    'without a restart.',
    '',
    '  --keyring FILE    the macaroon keyring (reqauth-macaroon-keyring/v1)',
  ].join('\n'),
  options: { keyring: { type: 'string' } },
  positionals: true,
  run(values, positionals, io) {
    const path = requireString(values, 'keyring');
    if (positionals.length === 0) throw new UsageError('missing ID');
    for (const id of positionals) {
      if (macaroonIdFromText(id) === undefined) throw new UsageError(`not a macaroon identifier: ${JSON.stringify(id)}`);
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let ring;
    try {
      ring = parseMacaroonKeyring(text);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    rewriteInPlace(path, macaroonKeyringToJson(revokeMacaroons(ring, positionals)));
    io.out(`revoked: ${positionals.join(', ')}`);
    io.out(`file: ${path}`);
  },
};
