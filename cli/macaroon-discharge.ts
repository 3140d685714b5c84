// reqauth macaroon discharge: the third party's side of a third-party caveat.
import { addFirstPartyCaveat, bindForRequest, mintMacaroon, serializeMacaroon, type Macaroon } from '../src';
import { CliError, Command, optionalString, requireString, stringList } from './common';
import { caveatArguments, MACAROON_KEY_FORMAT, readKeyFile, readToken, tokenArgument } from './macaroon-input';

export const macaroonDischarge: Command = {
  name: 'discharge',
  summary: 'mint a discharge for a third-party caveat, optionally bound to its root',
  usage: [
    'Usage: reqauth macaroon discharge --caveat-key-file F --id CAVEAT_ID [--location L]',
    '           [--caveat TEXT]... [--bind ROOT_TOKEN]',
    '',
    'Mints the discharge macaroon for the third-party caveat with id CAVEAT_ID, under the',
    'caveat key in F (the one given to mint --caveat-key-file), with the first-party caveats',
    'given, in order, and prints it on one line (V2 binary, base64url).',
    'Without --bind the discharge is printed as the third party hands it out; a discharge is',
    'only accepted bound to the root macaroon it is presented with. With --bind ROOT_TOKEN',
    '(V1, V2 or V2 JSON; "-" reads it from standard input) it is printed bound to that root,',
    'ready for `reqauth macaroon verify --discharge`. The root must have a third-party caveat',
    'with id CAVEAT_ID.',
    '',
    '  --caveat-key-file F   the caveat key (raw bytes)',
    '  --id CAVEAT_ID        the third-party caveat id (text)',
    '  --location L          where the discharge comes from (a hint, not signed)',
    '  --caveat TEXT         a first-party caveat on the discharge; repeatable, kept in order',
    '  --bind ROOT_TOKEN     bind the discharge to this root macaroon',
    '',
    MACAROON_KEY_FORMAT,
  ].join('\n'),
  options: {
    'caveat-key-file': { type: 'string' },
    id: { type: 'string' },
    location: { type: 'string' },
    caveat: { type: 'string', multiple: true },
    bind: { type: 'string' },
  },
  run(values, _positionals, io) {
    const keyPath = requireString(values, 'caveat-key-file');
    const id = requireString(values, 'id');
    const location = optionalString(values, 'location');
    const caveats = caveatArguments(stringList(values, 'caveat'));
    const bindArg = optionalString(values, 'bind');
    const root = bindArg === undefined ? undefined : readToken(tokenArgument(bindArg), 'the --bind root');
    if (root !== undefined && !root.caveats.some((c) => c.verificationId !== undefined && Buffer.from(c.identifier).equals(Buffer.from(id, 'utf8')))) {
      throw new CliError('the --bind root has no third-party caveat with this id');
    }

    const caveatKey = readKeyFile(keyPath, 'caveat key file', io);
    let d: Macaroon;
    try {
      d = mintMacaroon(location === undefined ? { rootKey: caveatKey, identifier: id } : { rootKey: caveatKey, identifier: id, location });
      for (const c of caveats) d = addFirstPartyCaveat(d, c);
      if (root !== undefined) d = bindForRequest(root, d);
    } catch (err) {
      if (err instanceof RangeError) throw new CliError(err.message);
      throw err;
    }
    io.out(serializeMacaroon(d, 'v2'));
  },
};
