// reqauth macaroon verify: both steps a server takes. The signature chain from the root key
// (and every discharge, bound to the root), then every first-party caveat against the
// request context given on the command line: typed caveats by their type, others only by an
// exact --allow.
import { parseCaveatTime, formatCaveatTime, splitCaveat } from '../src/macaroon/caveat-syntax';
import type { CaveatContext } from '../src/macaroon/caveat-types';
import { authorizeMacaroon, defaultCaveats, type CaveatClaims } from '../src/macaroon/caveats';
import { macaroonIdText } from '../src/macaroon/identifier';
import { CliError, Command, optionalString, requireString, stringList, UsageError } from './common';
import { MACAROON_KEY_FORMAT, readKeyFile, readToken, textOrBase64, tokenArgument } from './macaroon-input';

export const macaroonVerify: Command = {
  name: 'verify',
  summary: 'verify a macaroon and its discharges and check every caveat',
  usage: [
    'Usage: reqauth macaroon verify --root-key-file F TOKEN [--discharge TOKEN]... [--allow TEXT]...',
    '           [--audience A] [--method M] [--principal P] [--key-id K] [--now T] [--any-presenter]',
    '',
    'Exits 0 and prints the verified caveats and their claims as JSON only when the signature',
    'chain from the root key in F holds, every third-party caveat has exactly one discharge',
    '(bound to TOKEN: see reqauth macaroon discharge --bind), and every first-party caveat of',
    'TOKEN and of its discharges is satisfied. Otherwise exits 1 with the reason code on',
    'stderr: macaroon_* (docs/spec.md) for the tokens and signatures, caveat_unknown,',
    'caveat_malformed, caveat_failed or caveat_missing (docs/macaroon-caveats.md) for the',
    'caveats. Tokens are V1, V2 or V2 JSON; TOKEN "-" reads it from standard input.',
    'Typed caveats are checked against the request context given by the flags below, as a',
    'server checks them against the request; a caveat that needs a value not given fails.',
    'The macaroon must name a presenter, and --principal must be the last one named.',
    '',
    '  --root-key-file F   the root key (raw bytes)',
    '  --discharge TOKEN   a discharge macaroon; repeatable',
    '  --allow TEXT        accept a caveat whose predicate is exactly TEXT; only for caveats',
    '                      outside the typed vocabulary (a typed caveat is always checked)',
    '  --audience A        the verifying service (audience caveats)',
    '  --method M          the request method, /pkg.Service/Method (method caveats)',
    '  --principal P       the authenticated principal presenting it (presenter caveats)',
    '  --key-id K          the request key id (request-key caveats)',
    '  --now T             the time to check at, e.g. 2026-11-23T03:00:00Z (default: now)',
    '  --any-presenter     accept a macaroon that names no presenter (outside reqauth)',
    '',
    MACAROON_KEY_FORMAT,
  ].join('\n'),
  options: {
    'root-key-file': { type: 'string' },
    discharge: { type: 'string', multiple: true },
    allow: { type: 'string', multiple: true },
    audience: { type: 'string' },
    method: { type: 'string' },
    principal: { type: 'string' },
    'key-id': { type: 'string' },
    now: { type: 'string' },
    'any-presenter': { type: 'boolean' },
  },
  positionals: true,
  run(values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing TOKEN' : 'expected exactly one TOKEN');
    const keyPath = requireString(values, 'root-key-file');
    const vocabulary = defaultCaveats({ requirePresenter: values['any-presenter'] !== true });
    const allow = stringList(values, 'allow');
    for (const text of allow) {
      const { name } = splitCaveat(text);
      if (vocabulary.has(name)) throw new UsageError(`--allow '${text}': ${name} is a typed caveat, checked against the context flags`);
    }
    const nowText = optionalString(values, 'now');
    const nowMs = nowText === undefined ? Date.now() : parseCaveatTime(nowText);
    if (nowMs === undefined) throw new UsageError('--now must be an RFC 3339 UTC time such as 2026-11-23T03:00:00Z');
    const context: { -readonly [K in keyof CaveatContext]: CaveatContext[K] } = { nowMs };
    for (const [flag, field] of [['audience', 'audience'], ['method', 'method'], ['principal', 'principal'], ['key-id', 'keyId']] as const) {
      const v = optionalString(values, flag);
      if (v !== undefined) context[field] = v;
    }

    const root = readToken(tokenArgument(positionals[0]!), 'TOKEN');
    const discharges = stringList(values, 'discharge').map((t, i) => readToken(t.trim(), `discharge ${i}`));
    const rootKey = readKeyFile(keyPath, 'root key file', io);

    const r = authorizeMacaroon(root, rootKey, discharges, context, vocabulary, { exact: allow });
    if (!r.ok) throw new CliError(`${r.reason}: ${r.detail}`);
    io.out(
      JSON.stringify(
        {
          ...textOrBase64('identifier', r.identifier),
          id: macaroonIdText(r.identifier),
          caveats: r.caveats.map((c) => {
            const text = textOrBase64('predicate', c.predicate);
            const name = text['predicate'] === undefined ? undefined : splitCaveat(text['predicate']).name;
            return { source: c.source, index: c.index, ...text, by: name !== undefined && vocabulary.has(name) ? name : 'allow' };
          }),
          claims: describeClaims(r.claims),
        },
        null,
        2,
      ),
    );
  },
};

function describeClaims(c: CaveatClaims): Record<string, unknown> {
  return {
    ...(c.user === undefined ? {} : { user: c.user }),
    ...(c.roles === undefined ? {} : { roles: c.roles }),
    chain: c.chain,
    ...(c.presenter === undefined ? {} : { presenter: c.presenter }),
    ...(c.expiresAtMs === undefined ? {} : { expires: formatCaveatTime(c.expiresAtMs) }),
    ...(c.notBeforeMs === undefined ? {} : { notBefore: formatCaveatTime(c.notBeforeMs) }),
  };
}
