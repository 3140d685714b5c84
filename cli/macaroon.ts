// reqauth macaroon: the macaroon commands, dispatched by cli/reqauth.ts as one group.
import { macaroonDischarge } from './macaroon-discharge';
import { MACAROON_KEY_FORMAT } from './macaroon-input';
import { macaroonInspect } from './macaroon-inspect';
import { macaroonMint } from './macaroon-mint';
import { macaroonRevoke } from './macaroon-revoke';
import { macaroonVerify } from './macaroon-verify';

const COMMANDS = [macaroonMint, macaroonInspect, macaroonVerify, macaroonDischarge, macaroonRevoke] as const;

export const macaroon = {
  name: 'macaroon',
  summary: 'mint, inspect, verify, discharge and revoke macaroons (user and delegation credentials)',
  commands: COMMANDS,
  get usage(): string {
    const width = Math.max(...COMMANDS.map((c) => c.name.length));
    return [
      'Usage: reqauth macaroon COMMAND [options]',
      '',
      'Classic macaroons (libmacaroons, pymacaroons, go-macaroon compatible) with reqauth\'s',
      'typed caveats (docs/macaroon-caveats.md). Tokens are printed as V2 binary, base64url;',
      'V1, V2 and V2 JSON are all read.',
      '',
      'Commands:',
      ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '',
      ...COMMANDS.flatMap((c) => c.usage.split('\n\n')[0]!.split('\n').map((l) => (l.startsWith('Usage: ') ? '  ' + l.slice(7) : '      ' + l.trim()))),
      '',
      MACAROON_KEY_FORMAT,
      '',
      'A printed macaroon carries its signature: it is a bearer credential, and whoever holds',
      'it can use and attenuate it. Keys and signatures are never printed on their own.',
      "See 'reqauth macaroon COMMAND --help' for each command.",
    ].join('\n');
  },
};
