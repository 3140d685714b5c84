// A configuration file (keyring, deny list) parsed into a value and reloaded when it changes,
// without a restart (docs/spec.md §6.2). A file that fails to read or parse keeps the previous
// value in force and is reported; the first load throws, so nothing starts without it.
import { readFileSync, stat, Stats, statSync } from 'node:fs';
import { ReqauthConfigError } from './errors';

export interface WatchedFileOptions<T> {
  /** How often the file's stat is polled; polling survives editors that replace the file. */
  pollIntervalMs?: number;
  /**
   * A reload failed: the previous value stays in force. The error never quotes the file.
   * Default: a process warning naming the file and the problem, once per change of the file.
   */
  onError?: (err: Error) => void;
  onReload?: (value: T) => void;
}

export class WatchedFile<T> {
  private value: T;
  /** The file's identity when it was last read; a poll that sees another one reloads. */
  private loadedStamp = '';
  private polling = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly path: string,
    /** Parses the file's text; throws (without quoting the text) if it cannot be used. */
    private readonly parse: (text: string) => T,
    private readonly options: WatchedFileOptions<T> = {},
  ) {
    this.value = this.load();
    // Polls against the stat taken at load, not fs.watchFile's own baseline: that one is
    // taken asynchronously after start, so a change made in between was never noticed.
    this.timer = setInterval(() => this.poll(), options.pollIntervalMs ?? 1000);
    this.timer.unref();
  }

  current(): T {
    return this.value;
  }

  /** Loads the file now. Returns false (and keeps the old value) if it cannot be used. */
  reload(): boolean {
    try {
      this.value = this.load();
      this.options.onReload?.(this.value);
      return true;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!this.options.onError) {
        reportReloadFailure(this.path, error);
      } else {
        try {
          this.options.onError(error);
        } catch {
          // runs from a timer: a throwing hook must not take the process down
        }
      }
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

  private load(): T {
    let text: string;
    try {
      // Stat before reading: a change after the stat makes the next poll read again.
      this.loadedStamp = stampOf(statOrUndefined(this.path));
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new ReqauthConfigError(`cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return this.parse(text);
  }
}

/** The default report: the file's path and the parse error (which never quotes the file). */
function reportReloadFailure(path: string, err: Error): void {
  const problem = err instanceof ReqauthConfigError ? err.message : err.name;
  try {
    process.emitWarning(`reqauth: cannot reload ${path}: ${problem}; the previous version stays in force`, { code: 'REQAUTH_RELOAD' });
  } catch {
    // a warning listener that throws changes nothing here
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
