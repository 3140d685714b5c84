// Shared plumbing for the reqauth commands: argument parsing, errors with exit codes, and
// keyring/credential files (read with errors that never quote the content, written
// atomically so a watching service never reads half a file).
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { Keyring, parseKeyring, ReqauthConfigError, RootKeyring } from '../src';

/** A usage error: exit code 2, one line, a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A runtime failure: exit code 1. The message must never contain a secret. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full usage text shown by `reqauth COMMAND --help`. */
  readonly usage: string;
  readonly options: Options;
  readonly positionals?: boolean;
  run(values: Values, positionals: string[], io: Io): void;
}

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Parses a command's arguments; throws UsageError for anything parseArgs refuses. */
export function parseCommandArgs(cmd: Command, args: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: cmd.positionals ?? false,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(firstSentence((err as Error).message));
    throw err;
  }
}

function firstSentence(message: string): string {
  const i = message.indexOf('. ');
  return (i < 0 ? message : message.slice(0, i)).replace(/\.$/, '');
}

export function requireString(values: Values, name: string): string {
  const v = values[name];
  if (v === undefined) throw new UsageError(`missing required --${name}`);
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} must be a non-empty string`);
  return v;
}

export function optionalString(values: Values, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} must be a non-empty string`);
  return v;
}

export function stringList(values: Values, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  const list = (Array.isArray(v) ? v : [v]) as unknown[];
  for (const item of list) if (typeof item !== 'string' || item === '') throw new UsageError(`--${name} must be a non-empty string`);
  return list as string[];
}

// ------------------------------------------------------------------ reading files

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Reads and parses a keyring file; parse errors name the problem, never the content. */
export function readKeyring(path: string): Keyring {
  const text = readText(path, 'keyring');
  try {
    return parseKeyring(text);
  } catch (err) {
    if (err instanceof ReqauthConfigError) throw new CliError(`${path}: ${err.message}`);
    throw err;
  }
}

export function readRootKeyring(path: string, command: string, io: Io): RootKeyring {
  const ring = readKeyring(path);
  if (ring.format !== 'reqauth-root-keyring/v1') {
    throw new CliError(`${command} needs a root keyring; ${path} is a service keyring (${ring.audience}), which holds no root secret`);
  }
  warnIfExposed(path, io);
  return ring;
}

/** A root keyring readable by group or others is a leak waiting to happen: say so. */
export function warnIfExposed(path: string, io: Io): void {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) io.err(`warning: ${path} is readable by group/others (mode ${octal(mode)}); run chmod 600 ${path}`);
  } catch {
    // It was just read; a stat failure here is not worth failing over.
  }
}

export function describeKeyring(ring: Keyring): string {
  return ring.format === 'reqauth-root-keyring/v1' ? 'root keyring' : `service keyring (audience ${ring.audience})`;
}

export function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

// ------------------------------------------------------------------ writing files

export const SECRET_FILE_MODE = 0o600;

export interface WriteOptions {
  /** Exact permission bits of the new file (umask does not apply). */
  mode: number;
  /** Replace an existing file; otherwise an existing file is an error, checked atomically. */
  overwrite: boolean;
}

/**
 * Writes `text` to `path` atomically: a temporary file in the same directory, flushed, then
 * renamed over `path` (or hard-linked to it when not overwriting, which fails if `path`
 * exists, with no window in which another writer could slip in). A reader of `path` sees
 * the old file or the new one, never a partial one.
 */
export function writeFileAtomic(path: string, text: string, options: WriteOptions): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', options.mode);
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    try {
      fchmodSync(fd, options.mode);
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.overwrite) {
      renameSync(tmp, path);
    } else {
      linkSync(tmp, path);
      unlinkSync(tmp);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EEXIST') throw new CliError(`refusing to overwrite ${path}: it exists (use --force to replace it)`);
    throw new CliError(`cannot write ${path}: ${code}`);
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported everywhere; the rename itself is still atomic.
  }
}

/**
 * Rewrites an existing keyring file in place, atomically, keeping its permission bits. A
 * symlink (as in Kubernetes secret mounts) is followed, so the link survives.
 */
export function rewriteInPlace(path: string, text: string): void {
  let target: string;
  let mode: number;
  try {
    target = realpathSync(path);
    mode = statSync(target).mode & 0o777;
  } catch (err) {
    throw new CliError(`cannot update ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  writeFileAtomic(target, text, { mode, overwrite: true });
}

/** True if the two paths name the same existing file. */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}
