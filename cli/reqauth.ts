#!/usr/bin/env node
// The reqauth command-line tool: a thin dispatcher over the commands in this directory.
// Exit codes: 0 success, 1 runtime failure, 2 usage error. Nothing printed ever contains a
// secret, key or MAC.
import { ReqauthConfigError } from '../src';
import { CliError, Command, Io, parseCommandArgs, UsageError } from './common';
import { derive } from './derive';
import { FORMATS } from './formats';
import { inspect } from './inspect';
import { keygen } from './keygen';
import { retire } from './retire';
import { revoke } from './revoke';
import { rotate } from './rotate';

const COMMANDS: readonly Command[] = [keygen, derive, rotate, retire, revoke, inspect];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: reqauth COMMAND [options]',
    '',
    'Manage reqauth keys and credentials and inspect envelopes.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  show this help, or \`reqauth help COMMAND\` for one command`,
    '',
    ...COMMANDS.flatMap(synopsis),
    '',
    FORMATS,
    '',
    'Exit codes: 0 ok, 1 failure (bad or unreadable file, malformed envelope), 2 usage error.',
    'Secrets are only ever written to files (mode 0600), never printed.',
  ].join('\n');
}

/** The usage lines at the top of a command's help, without the "Usage:" label. */
function synopsis(c: Command): string[] {
  const head = c.usage.split('\n\n')[0]!.split('\n');
  return head.map((line) => '  ' + line.replace(/^Usage: /, '').trim());
}

export function main(argv: readonly string[], io: Io): number {
  const [name, ...rest] = argv;
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (name === undefined) throw new UsageError('missing command');
    if (name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest.length > 0) {
        const topic = COMMANDS.find((c) => c.name === rest[0]);
        if (!topic) throw new UsageError(`unknown command '${rest[0]}'`);
        io.out(topic.usage);
      } else {
        io.out(overview());
      }
      return 0;
    }
    if (!command) throw new UsageError(name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`);
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values['help'] === true) {
      io.out(command.usage);
      return 0;
    }
    command.run(values, positionals, io);
    return 0;
  } catch (err) {
    const where = command ? `reqauth ${command.name}` : 'reqauth';
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

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  });
}
