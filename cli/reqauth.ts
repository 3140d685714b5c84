#!/usr/bin/env node
// The reqauth command-line tool: a thin dispatcher over the commands in this directory.
// Exit codes: 0 success, 1 runtime failure, 2 usage error. Nothing printed ever contains a
// secret, key or MAC, except the macaroon `macaroon mint|discharge` was asked to print.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ReqauthConfigError } from '../src';
import { audit } from './audit';
import { CliError, Command, Io, parseCommandArgs, UsageError } from './common';
import { derive } from './derive';
import { FORMATS } from './formats';
import { inspect } from './inspect';
import { keygen } from './keygen';
import { macaroon } from './macaroon';
import { MACAROON_KEY_FORMAT } from './macaroon-input';
import { retire } from './retire';
import { revoke } from './revoke';
import { rotate } from './rotate';

const COMMANDS: readonly Command[] = [keygen, derive, rotate, retire, revoke, inspect, audit];

/** Commands under one name: `reqauth GROUP COMMAND [options]`. */
interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly commands: readonly Command[];
}

const GROUPS: readonly CommandGroup[] = [macaroon];

function overview(): string {
  const width = Math.max(...[...COMMANDS, ...GROUPS].map((c) => c.name.length));
  return [
    'Usage: reqauth COMMAND [options]',
    '       reqauth --version',
    '',
    'Manage reqauth keys and credentials, inspect envelopes, and work with macaroons.',
    '',
    'Commands:',
    ...[...COMMANDS, ...GROUPS].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  show this help, or \`reqauth help COMMAND\` for one command`,
    '',
    ...COMMANDS.flatMap(synopsis),
    ...GROUPS.flatMap((g) => g.commands.flatMap((c) => synopsis(c).map((line) => (line.startsWith('  reqauth ') ? line : '    ' + line)))),
    '',
    FORMATS,
    '',
    MACAROON_KEY_FORMAT,
    '',
    'Exit codes: 0 ok, 1 failure (bad or unreadable file, malformed envelope or macaroon,',
    'a macaroon that does not verify), 2 usage error.',
    'Secrets are only ever written to files (mode 0600), never printed; the exception is a',
    'macaroon printed by `reqauth macaroon mint|discharge`, which is itself a bearer credential.',
  ].join('\n');
}

/** The usage lines at the top of a command's help, without the "Usage:" label. */
function synopsis(c: Command): string[] {
  const head = c.usage.split('\n\n')[0]!.split('\n');
  return head.map((line) => '  ' + line.replace(/^Usage: /, '').trim());
}

export function main(argv: readonly string[], io: Io): number {
  const [name, ...rest] = argv;
  const group = GROUPS.find((g) => g.name === name);
  let where = 'reqauth';
  try {
    if (name === undefined) throw new UsageError('missing command');
    if (name === '--version') {
      io.out(version());
      return 0;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      io.out(name === 'help' && rest.length > 0 ? helpTopic(rest) : overview());
      return 0;
    }
    let command: Command | undefined;
    let args = rest;
    if (group) {
      where = `reqauth ${group.name}`;
      const [sub, ...subRest] = rest;
      if (sub === undefined) throw new UsageError(`missing ${group.name} command`);
      if (sub === '--help' || sub === '-h' || sub === 'help') {
        io.out(sub === 'help' && subRest.length > 0 ? helpTopic([group.name, ...subRest]) : group.usage);
        return 0;
      }
      command = group.commands.find((c) => c.name === sub);
      if (!command) throw new UsageError(sub.startsWith('-') ? `unknown option '${sub}'` : `unknown ${group.name} command '${sub}'`);
      where = `reqauth ${group.name} ${command.name}`;
      args = subRest;
    } else {
      command = COMMANDS.find((c) => c.name === name);
      if (!command) throw new UsageError(name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`);
      where = `reqauth ${command.name}`;
    }
    const { values, positionals } = parseCommandArgs(command, args);
    if (values['help'] === true) {
      io.out(command.usage);
      return 0;
    }
    command.run(values, positionals, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${where}: ${err.message} (see '${where} --help')`);
      return 2;
    }
    if (err instanceof CliError || err instanceof ReqauthConfigError) {
      io.err(`${where}: ${err.message}`);
      return 1;
    }
    // Unexpected: name the error class only; its message could, in principle, quote input.
    io.err(`${where}: internal error (${err instanceof Error ? err.name : typeof err})`);
    return 1;
  }
}

/** The installed package's version: its package.json is two levels above dist/cli. */
export function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** `reqauth help COMMAND` and `reqauth help GROUP [COMMAND]`. */
function helpTopic(topic: readonly string[]): string {
  const group = GROUPS.find((g) => g.name === topic[0]);
  if (group) {
    if (topic.length === 1) return group.usage;
    const command = group.commands.find((c) => c.name === topic[1]);
    if (!command) throw new UsageError(`unknown ${group.name} command '${topic[1]}'`);
    return command.usage;
  }
  const command = COMMANDS.find((c) => c.name === topic[0]);
  if (!command) throw new UsageError(`unknown command '${topic[0]}'`);
  return command.usage;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  });
}
