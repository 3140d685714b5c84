// What a verifier needs from a keyring: its audience keys by key id and the deny list,
// swapped atomically when the keyring file changes (docs/spec.md §6.2).
import { readFileSync, stat, Stats, statSync } from 'node:fs';
import { ReqauthConfigError } from './errors';
import { Keyring, parseKeyring, serviceKeyringFor } from './keyring';

/** One loaded keyring, immutable; a reload makes a new one with a higher generation. */
export interface VerificationKeys {
  readonly audience: string;
  /** Changes on every reload, so caches of derived keys know to start over. */
  readonly generation: number;
  audienceKey(keyId: string): Buffer | undefined;
  isKeyDenied(keyId: string): boolean;
  isPrincipalDenied(principal: string): boolean;
}

export interface KeySource {
  current(): VerificationKeys;
}

let generations = 0;

/** Audience keys for `audience` from either kind of keyring; the root secret is not kept. */
export function verificationKeys(ring: Keyring, audience: string): VerificationKeys {
  const service = ring.format === 'reqauth-root-keyring/v1' ? serviceKeyringFor(ring, audience) : ring;
  if (service.audience !== audience) {
    throw new ReqauthConfigError(`keyring is for audience "${service.audience}", not "${audience}"`);
  }
  const keys = new Map(service.keys.map((k) => [k.keyId, k.audienceKey]));
  const deniedKeys = new Set(service.deny.keyIds);
  const deniedPrincipals = new Set(service.deny.principals);
  return {
    audience,
    generation: ++generations,
    audienceKey: (keyId) => keys.get(keyId),
    isKeyDenied: (keyId) => deniedKeys.has(keyId),
    isPrincipalDenied: (principal) => deniedPrincipals.has(principal),
  };
}

/** A fixed keyring (tests, or keys managed by the application). */
export function staticKeySource(ring: Keyring, audience: string): KeySource {
  const keys = verificationKeys(ring, audience);
  return { current: () => keys };
}

export interface KeyringFileOptions {
  audience: string;
  /** How often the file's stat is polled; polling survives editors that replace the file. */
  pollIntervalMs?: number;
  /** A reload failed: the previous keys stay in force. The error never quotes the file. */
  onError?: (err: Error) => void;
  onReload?: (keys: VerificationKeys) => void;
}

/**
 * A keyring file, reloaded when it changes, without a restart. A corrupt or unreadable file
 * keeps the previous keys and reports the error; the constructor throws if the first load
 * fails, so a service never starts without keys.
 */
export class KeyringFile implements KeySource {
  private keys: VerificationKeys;
  /** The file's identity when it was last read; a poll that sees another one reloads. */
  private loadedStamp = '';
  private polling = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly path: string,
    private readonly options: KeyringFileOptions,
  ) {
    this.keys = this.load();
    // Polls against the stat taken at load, not fs.watchFile's own baseline: that one is
    // taken asynchronously after start, so a change made in between was never noticed.
    this.timer = setInterval(() => this.poll(), options.pollIntervalMs ?? 1000);
    this.timer.unref();
  }

  current(): VerificationKeys {
    return this.keys;
  }

  /** Loads the file now. Returns false (and keeps the old keys) if it cannot be used. */
  reload(): boolean {
    try {
      this.keys = this.load();
      this.options.onReload?.(this.keys);
      return true;
    } catch (err) {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private poll(): void {
    if (this.polling) return;
    this.polling = true;
    stat(this.path, (err, stats) => {
      this.polling = false;
      if (!this.closed && stampOf(err ? undefined : stats) !== this.loadedStamp) this.reload();
    });
  }

  private load(): VerificationKeys {
    let text: string;
    try {
      // Stat before reading: a change after the stat makes the next poll read again.
      this.loadedStamp = stampOf(statOrUndefined(this.path));
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new ReqauthConfigError(`cannot read keyring ${this.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return verificationKeys(parseKeyring(text), this.options.audience);
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** What identifies one version of the file: replaced (ino), rewritten (mtime, ctime, size). */
function stampOf(stats: Stats | undefined): string {
  return stats ? `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}` : 'missing';
}
