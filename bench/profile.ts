// CPU profiles of fixed-N runs (`npm run bench -- --profile`): each child profiles itself
// through node:inspector around exactly the measured calls (no start-up, no warm-up), and the
// parent compares the self time per frame, per call, of two configurations.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector/promises';

let session: Session | undefined;

/** Starts this process's CPU profiler; `intervalUs` is the sampling interval. */
export async function startProfile(intervalUs: number): Promise<void> {
  if (session) throw new Error('a profile is already running');
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
}

/** Stops it and writes the profile (Chrome DevTools' .cpuprofile format) to `file`. */
export async function stopProfile(file: string): Promise<void> {
  if (!session) throw new Error('no profile is running');
  const { profile } = await session.post('Profiler.stop');
  await session.post('Profiler.disable');
  session.disconnect();
  session = undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(profile));
}

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Frames that are not CPU spent by this process. */
const NOT_CPU = new Set(['(idle)']);

/** Self time (µs) per frame: each sample is charged the time until the next sample. */
export function selfTimes(profile: CpuProfile): Map<string, number> {
  const frameOf = new Map<number, string>();
  for (const n of profile.nodes) frameOf.set(n.id, frameName(n.callFrame));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < samples.length; i++) {
    const frame = frameOf.get(samples[i]!) ?? '(unknown)';
    if (NOT_CPU.has(frame)) continue;
    out.set(frame, (out.get(frame) ?? 0) + deltas[i + 1]!);
  }
  return out;
}

function frameName(f: CallFrame): string {
  const fn = f.functionName || '(anonymous)';
  if (!f.url) return fn;
  let url = f.url.replace(/^file:\/\//, '');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) url = url.slice(nm + 'node_modules/'.length);
  else {
    const dist = url.lastIndexOf('/dist/');
    if (dist >= 0) url = url.slice(dist + 1);
  }
  return `${fn} ${url}:${f.lineNumber + 1}`;
}

export interface FrameDiff {
  readonly frame: string;
  /** Self µs per call. */
  readonly base: number;
  readonly subject: number;
  readonly delta: number;
}

export interface ProfileDiff {
  /** All sampled CPU (idle excluded), µs per call. */
  readonly baseTotal: number;
  readonly subjectTotal: number;
  /** Frames where the subject spends more self time than the base, largest first. */
  readonly top: readonly FrameDiff[];
}

/** The frames where `subject` spends self time per call that `base` does not (each summed over its files). */
export function diffProfiles(baseFiles: readonly string[], baseCalls: number, subjectFiles: readonly string[], subjectCalls: number, limit: number): ProfileDiff {
  const read = (files: readonly string[]) => {
    const sum = new Map<string, number>();
    for (const f of files) for (const [frame, us] of selfTimes(JSON.parse(fs.readFileSync(f, 'utf8')) as CpuProfile)) sum.set(frame, (sum.get(frame) ?? 0) + us);
    return sum;
  };
  const base = read(baseFiles);
  const subject = read(subjectFiles);
  const frames = new Set([...base.keys(), ...subject.keys()]);
  const rows: FrameDiff[] = [];
  for (const frame of frames) {
    const b = (base.get(frame) ?? 0) / baseCalls;
    const s = (subject.get(frame) ?? 0) / subjectCalls;
    if (s > b) rows.push({ frame, base: b, subject: s, delta: s - b });
  }
  rows.sort((x, y) => y.delta - x.delta);
  const total = (m: Map<string, number>, calls: number) => [...m.values()].reduce((a, v) => a + v, 0) / calls;
  return { baseTotal: total(base, baseCalls), subjectTotal: total(subject, subjectCalls), top: rows.slice(0, limit) };
}
