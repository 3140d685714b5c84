// reqauth macaroon mint: a new macaroon under a root key, with first-party caveats and at
// most one third-party caveat.
import { addFirstPartyCaveat, addThirdPartyCaveat, mintMacaroon, serializeMacaroon, type Macaroon } from '../src';
import { CliError, Command, optionalString, requireString, stringList, UsageError } from './common';
import { caveatArguments, MACAROON_KEY_FORMAT, readKeyFile } from './macaroon-input';

export const macaroonMint: Command = {
  name: 'mint',
  summary: 'mint a macaroon under a root key; prints it (V2, base64url)',
  usage: [
    'Usage: reqauth macaroon mint --root-key-file F --location L --id ID [--caveat TEXT]...',
    '           [--third-party LOCATION --caveat-key-file F --caveat-id ID]',
    '',
    'Mints a macaroon with identifier ID under the root key in F and prints it on one line:',
    'V2 binary, base64url. The first-party caveats are added in the order given; typed',
    "caveats are written NAME VALUE (docs/macaroon-caveats.md): 'user alice',",
    "'presenter frontend', 'roles teller', 'audience ledger', 'method /pkg.Service/*',",
    "'expires 2026-11-23T03:00:00Z', 'not-before ...', 'request-key K'. Text with a built-in",
    'NAME must be a valid value of that type; other text is added as it is.',
    'With --third-party, one third-party caveat is added last: the macaroon then needs a',
    'discharge minted with the same caveat key and caveat id (reqauth macaroon discharge).',
    'The printed macaroon includes its signature: whoever holds it can use and attenuate it.',
    '',
    '  --root-key-file F        the root key (raw bytes), shared with the verifier',
    '  --location L             where the macaroon is used (a hint, not signed)',
    '  --id ID                  the identifier (text)',
    '  --caveat TEXT            a first-party caveat; repeatable, kept in order',
    '  --third-party LOCATION   add a third-party caveat for the discharger at LOCATION',
    '  --caveat-key-file F      its caveat key (raw bytes), shared with the discharger',
    '  --caveat-id ID           its caveat id (text), which the discharger recognises',
    '',
    MACAROON_KEY_FORMAT,
  ].join('\n'),
  options: {
    'root-key-file': { type: 'string' },
    location: { type: 'string' },
    id: { type: 'string' },
    caveat: { type: 'string', multiple: true },
    'third-party': { type: 'string' },
    'caveat-key-file': { type: 'string' },
    'caveat-id': { type: 'string' },
  },
  run(values, _positionals, io) {
    const keyPath = requireString(values, 'root-key-file');
    const location = requireString(values, 'location');
    const id = requireString(values, 'id');
    const caveats = caveatArguments(stringList(values, 'caveat'));
    const thirdParty = optionalString(values, 'third-party');
    const caveatKeyPath = optionalString(values, 'caveat-key-file');
    const caveatId = optionalString(values, 'caveat-id');
    const given = [thirdParty, caveatKeyPath, caveatId].filter((v) => v !== undefined).length;
    if (given !== 0 && given !== 3) throw new UsageError('--third-party, --caveat-key-file and --caveat-id go together');

    const rootKey = readKeyFile(keyPath, 'root key file', io);
    const caveatKey = caveatKeyPath === undefined ? undefined : readKeyFile(caveatKeyPath, 'caveat key file', io);
    let m: Macaroon;
    try {
      m = mintMacaroon({ rootKey, identifier: id, location });
      for (const c of caveats) m = addFirstPartyCaveat(m, c);
      if (caveatKey !== undefined) m = addThirdPartyCaveat(m, { caveatKey, caveatId: caveatId!, location: thirdParty! });
    } catch (err) {
      if (err instanceof RangeError) throw new CliError(err.message);
      throw err;
    }
    io.out(serializeMacaroon(m, 'v2'));
  },
};
