// reqauth macaroon inspect: a macaroon's fields for a human; no key, nothing verified.
import { macaroonIdText } from '../src';
import { Command, UsageError } from './common';
import { readToken, textOrBase64, tokenArgument, tokenFormat } from './macaroon-input';

export const macaroonInspect: Command = {
  name: 'inspect',
  summary: 'print a macaroon (V1, V2 or V2 JSON) as JSON, without its signature',
  usage: [
    'Usage: reqauth macaroon inspect TOKEN',
    '',
    'Parses TOKEN (V1 or V2 binary in base64 or base64url, or V2 JSON; "-" reads it from',
    'standard input) with the verifier\'s strict parser and prints',
    '  {format, location, identifier, id, caveats:[...]}',
    '`id` names the macaroon as claims, audit records and `reqauth macaroon revoke` do.',
    'A first-party caveat is shown as {index, predicate}; a third-party caveat as',
    '{index, location, caveatId, verificationIdLength}. Bytes that are not printable UTF-8',
    'are shown in base64url under the name with "64" appended (identifier64, ...).',
    'Nothing is verified and no key is used. The signature is never printed, nor the',
    'verification id (only its length).',
    'A token that does not parse exits 1 with its reason code (macaroon_malformed,',
    'macaroon_oversized) on stderr.',
  ].join('\n'),
  options: {},
  positionals: true,
  run(_values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing TOKEN' : 'expected exactly one TOKEN');
    const token = tokenArgument(positionals[0]!);
    const m = readToken(token, 'TOKEN');
    io.out(
      JSON.stringify(
        {
          format: tokenFormat(token),
          location: m.location ?? null,
          ...textOrBase64('identifier', m.identifier),
          id: macaroonIdText(m.identifier),
          caveats: m.caveats.map((c, index) =>
            c.verificationId === undefined
              ? { index, ...textOrBase64('predicate', c.identifier) }
              : { index, location: c.location ?? null, ...textOrBase64('caveatId', c.identifier), verificationIdLength: c.verificationId.length },
          ),
        },
        null,
        2,
      ),
    );
  },
};
