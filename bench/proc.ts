// The bench's processes: the parent (bench.ts) only orchestrates; every client and every
// server is a child of its own, so client and server each get a core, one side's garbage
// and JIT state never land on the other, and no process runs two configurations (grpc-js's
// hot paths stay as monomorphic as in a real deployment).
//
// A tiny request/response protocol over the IPC channel, with Node's "advanced"
// serialization so latency samples travel as Float64Arrays:
//   parent -> child  { id, cmd, args }
//   child  -> parent { id, ok: true, result } | { id, ok: false, error } | { progress }
// A child reports `{ ready: info }` once it can take commands, and exits when the parent
// goes away (IPC disconnect) or sends `stop`.
import { ChildProcess, fork } from 'node:child_process';

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type FromChild = Reply | { progress: string } | { ready: Record<string, unknown> } | { fatal: string };

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: ((line: string) => void) | undefined }>();
  private exited: Error | undefined;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly info: Record<string, unknown>,
  ) {
    proc.on('message', (m: FromChild) => {
      if ('progress' in m) {
        for (const p of this.pending.values()) p.onProgress?.(m.progress);
      } else if ('id' in m) {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`${this.name}: ${m.error}`));
      }
    });
    proc.on('exit', (code, signal) => {
      this.exited = new Error(`${this.name} exited (${signal ?? code})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Forks `script` and waits for its `ready` report. */
  static start(name: string, script: string, env: Record<string, string>, execArgv: string[] = []): Promise<Child> {
    const proc = fork(script, [], {
      execArgv,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${name} did not start within 30 s`));
      }, 30_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (${code})`));
      };
      proc.once('exit', onExit);
      proc.once('error', reject);
      const onMessage = (m: FromChild) => {
        if ('fatal' in m) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          reject(new Error(`${name}: ${m.fatal}`));
        } else if ('ready' in m) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          proc.off('message', onMessage);
          resolve(new Child(name, proc, m.ready));
        }
      };
      proc.on('message', onMessage);
    });
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}, onProgress?: (line: string) => void): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      this.proc.send({ id, cmd, args });
    });
  }

  /** Asks the child to exit; kills it if it has not within 10 s. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 10_000);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.proc.connected) this.proc.send({ id: 0, cmd: 'stop', args: {} });
      else this.proc.kill('SIGTERM');
    });
  }
}

export type Commands = Record<string, (args: Record<string, unknown>) => unknown>;

/** The child side: answers commands until `stop` or the parent disconnects. */
export function serve(ready: Record<string, unknown>, commands: Commands): void {
  const send = (m: FromChild) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { id: number; cmd: string; args: Record<string, unknown> }) => {
    if (m.cmd === 'stop') {
      // process.exit so that nothing (an open channel, a server) keeps the child alive.
      const stop = commands['stop'];
      Promise.resolve(stop?.({})).finally(() => process.exit(0));
      return;
    }
    const fn = commands[m.cmd];
    if (!fn) {
      send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => fn(m.args))
      .then(
        (result) => send({ id: m.id, ok: true, result }),
        (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  send({ ready });
}

/** A progress line for the parent to print (long runs say where they are). */
export function progress(line: string): void {
  process.send?.({ progress: line });
}

/** Reports a start-up failure to the parent and exits. */
export function fatal(err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  if (process.send) process.send({ fatal: text }, () => process.exit(1));
  else {
    console.error(text);
    process.exit(1);
  }
}
