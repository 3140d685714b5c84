// What the macaroon commands read: raw key files, tokens in any of the three formats, and
// first-party caveat text; and how they show bytes that may not be text.
import { readFileSync } from 'node:fs';
import { parseMacaroon, type Macaroon } from '../src';
import { decodeBase64 } from '../src/macaroon/base64';
import { isCaveatValue, splitCaveat } from '../src/macaroon/caveat-syntax';
import { defaultCaveats } from '../src/macaroon/caveats';
import { CliError, UsageError, warnIfExposed, type Io } from './common';

export const MAX_KEY_BYTES = 4096;

/** One line for the help texts: the key file format. */
export const MACAROON_KEY_FORMAT = [
  `Macaroon key files (--root-key-file, --caveat-key-file) hold the raw key bytes, 1 to ${MAX_KEY_BYTES}`,
  'bytes, used exactly as they are (a trailing newline is part of the key), as libmacaroons,',
  'pymacaroons and go-macaroon take them. Make one with: head -c 32 /dev/urandom > root.key',
].join('\n');

/** A key file's bytes; errors name the file and the problem, never the content. */
export function readKeyFile(path: string, what: string, io: Io): Buffer {
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (key.length === 0) throw new CliError(`${what} ${path} is empty`);
  if (key.length > MAX_KEY_BYTES) throw new CliError(`${what} ${path} is larger than ${MAX_KEY_BYTES} bytes; it must hold the raw key bytes`);
  warnIfExposed(path, io);
  if (key[key.length - 1] === 0x0a) io.err(`note: ${what} ${path} ends with a newline, which is part of the key`);
  return key;
}

/** TOKEN as given, or standard input for "-" (keeps a bearer token out of the process list). */
export function tokenArgument(arg: string): string {
  if (arg !== '-') return arg.trim();
  try {
    return readFileSync(0, 'utf8').trim();
  } catch (err) {
    throw new CliError(`cannot read the token from standard input: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** A macaroon from V1, V2 (base64 or base64url) or V2 JSON text; refusals exit 1 with the reason code. */
export function readToken(token: string, what: string): Macaroon {
  const parsed = parseMacaroon(token);
  if (!parsed.ok) throw new CliError(`${parsed.reason}: ${what}: ${parsed.detail}`);
  return parsed.macaroon;
}

/** Which of the three formats a token that parsed is in. */
export function tokenFormat(token: string): 'v1' | 'v2' | 'v2json' {
  if (token.startsWith('{')) return 'v2json';
  return decodeBase64(token)?.[0] === 2 ? 'v2' : 'v1';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** `{name: text}` when the bytes are printable UTF-8, else `{name64: base64url}` (as V2 JSON does). */
export function textOrBase64(name: string, bytes: Uint8Array): Record<string, string> {
  try {
    const text = UTF8.decode(bytes);
    if (!/[\u0000-\u001f\u007f-\u009f]/.test(text)) return { [name]: text };
  } catch {
    // not UTF-8
  }
  return { [name + '64']: Buffer.from(bytes).toString('base64url') };
}

const VOCABULARY = defaultCaveats();

/**
 * First-party caveats from --caveat: any non-empty text, but one that uses a built-in NAME
 * must be a valid value of that type, so the CLI never mints a caveat no verifier accepts.
 */
export function caveatArguments(list: readonly string[]): string[] {
  for (const text of list) {
    const { name, value } = splitCaveat(text);
    const type = VOCABULARY.get(name);
    if (type === undefined) continue;
    if (value === undefined || !isCaveatValue(value) || !type.parse(value).ok) {
      throw new UsageError(`--caveat '${text}': not a valid ${name} caveat`);
    }
  }
  return [...list];
}
