// `npm run bench -- [options]`: what runs, and how long.
//
//   --quick            under a minute: fewer, shorter rounds; macaroon and audit only with --only
//   --tiny             a few calls per run: checks that the harness works (the test suite)
//   --only A,B         only these: a case id or part of one (unary-100B-c1, c64, 64KiB,
//                      client-stream, server-stream, 1MiB, signed-unary-c1, signed-server-stream)
//                      or a section (grpc, responses, forged, memory, micro, macaroon, audit)
//   --skip A,B         all but these (same names); --no-macaroon etc. as before
//   --configs A,B      configurations to compare (plain always runs: ratios need it)
//   --rounds N --run-ms N --warmup-ms N       override the mode's values
//   --memory-calls N   calls before reading the servers' memory (full 200,000)
//   --profile          CPU profiles instead of measurements: see bench.ts
//   --profile-base C   the configuration reqauth is compared with (default plain)
//   --profile-calls N  calls per configuration (over 4 alternating rounds); --profile-interval µs (default 100)
//   --profile-dir DIR  where .cpuprofile files go (default bench/profiles)
//   --out FILE         results (default bench/results.json; with --profile, DIR/profiles.json)
import * as path from 'node:path';
import { REPO_ROOT } from '../examples/ledger/definition';
import { CONFIGS, ConfigName, isConfig } from './configs';

export type Mode = 'full' | 'quick' | 'tiny';
export const SECTIONS = ['grpc', 'responses', 'forged', 'memory', 'micro', 'macaroon', 'audit'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  readonly mode: Mode;
  /** Per configuration, before a case's rounds. 0: no warm-up. */
  readonly warmupMs: number;
  /** ... and at least this many calls (heavier calls: fewer), within 3 x warmupMs. */
  readonly warmupCalls: number;
  /** Target duration of one measured run; the call count is fixed per case from the warm-up. */
  readonly runMs: number;
  readonly rounds: number;
  /** Bounds on the calls of one measured run. */
  readonly minCalls: number;
  readonly maxCalls: number;
  /** --tiny: exactly this many calls per run (1 MiB and streams: a third), no calibration. */
  readonly fixedCalls: number | undefined;
  readonly forged: { readonly rounds: number; readonly calls: number; readonly concurrency: number };
  readonly memory: { readonly calls: number; readonly concurrency: number };
  readonly micro: { readonly rounds: number; readonly iters: number };
  readonly macaroon: { readonly warmupMs: number; readonly runMs: number; readonly rounds: number };
  readonly audit: { readonly rows: number; readonly runs: number; readonly scanRuns: number };
  readonly configs: readonly ConfigName[];
  readonly only: readonly string[] | undefined;
  readonly skip: readonly string[];
  readonly profile: { readonly on: boolean; readonly base: ConfigName; readonly calls: number; readonly rounds: number; readonly intervalUs: number; readonly dir: string };
  readonly out: string;
}

const MODES: Record<Mode, Omit<BenchOptions, 'mode' | 'configs' | 'only' | 'skip' | 'profile' | 'out'> & { profileCalls: number }> = {
  full: {
    warmupMs: 1000,
    warmupCalls: 4000,
    // Many short rounds beat a few long ones on a shared machine: the median sheds more noise.
    runMs: 600,
    rounds: 11,
    minCalls: 20,
    maxCalls: 200_000,
    fixedCalls: undefined,
    forged: { rounds: 7, calls: 1000, concurrency: 8 },
    memory: { calls: 200_000, concurrency: 64 },
    micro: { rounds: 15, iters: 24 },
    macaroon: { warmupMs: 1000, runMs: 400, rounds: 15 },
    audit: { rows: 1_000_000, runs: 15, scanRuns: 3 },
    profileCalls: 30_000,
  },
  quick: {
    // Shorter than full mode's: with the response-signing section, under a minute on a loaded machine.
    warmupMs: 150,
    warmupCalls: 600,
    runMs: 150,
    rounds: 3,
    minCalls: 10,
    maxCalls: 50_000,
    fixedCalls: undefined,
    forged: { rounds: 3, calls: 150, concurrency: 8 },
    memory: { calls: 3_000, concurrency: 64 },
    micro: { rounds: 5, iters: 8 },
    macaroon: { warmupMs: 300, runMs: 200, rounds: 5 },
    audit: { rows: 200_000, runs: 7, scanRuns: 3 },
    profileCalls: 5_000,
  },
  tiny: {
    warmupMs: 0,
    warmupCalls: 0,
    runMs: 0,
    rounds: 2,
    minCalls: 1,
    maxCalls: 1000,
    fixedCalls: 6,
    forged: { rounds: 1, calls: 6, concurrency: 2 },
    memory: { calls: 200, concurrency: 8 },
    micro: { rounds: 1, iters: 1 },
    macaroon: { warmupMs: 5, runMs: 5, rounds: 1 },
    audit: { rows: 2_000, runs: 1, scanRuns: 1 },
    profileCalls: 20,
  },
};

export function parseOptions(argv: readonly string[]): BenchOptions {
  const has = (flag: string) => argv.includes(flag);
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const number = (flag: string, fallback: number): number => {
    const v = value(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number`);
    return n;
  };
  const list = (flag: string): string[] | undefined => value(flag)?.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(['--quick', '--tiny', '--profile', '--no-micro', '--no-macaroon', '--no-audit', '--no-unary', '--no-grpc', '--no-responses', '--no-forged', '--no-memory']);
  const valued = new Set(['--only', '--skip', '--configs', '--rounds', '--run-ms', '--warmup-ms', '--memory-calls', '--profile-base', '--profile-calls', '--profile-interval', '--profile-dir', '--out']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (valued.has(a)) i++;
    else if (!known.has(a)) throw new Error(`unknown option ${a} (see bench/options.ts)`);
  }

  const mode: Mode = has('--tiny') ? 'tiny' : has('--quick') ? 'quick' : 'full';
  const m = MODES[mode];
  const configs = list('--configs') ?? [...CONFIGS];
  for (const c of configs) if (!isConfig(c)) throw new Error(`unknown configuration ${c} (${CONFIGS.join(', ')})`);
  // plain first: every ratio is to it.
  const chosen = CONFIGS.filter((c) => c === 'plain' || configs.includes(c));
  const skip = [...(list('--skip') ?? [])];
  for (const s of ['micro', 'macaroon', 'audit', 'grpc', 'responses', 'forged', 'memory']) if (has(`--no-${s}`)) skip.push(s);
  if (has('--no-unary')) skip.push('grpc');
  const base = value('--profile-base') ?? 'plain';
  const profileDir = path.resolve(value('--profile-dir') ?? path.join(REPO_ROOT, 'bench', 'profiles'));
  if (!isConfig(base)) throw new Error(`unknown --profile-base ${base}`);
  return {
    mode,
    warmupMs: number('--warmup-ms', m.warmupMs),
    warmupCalls: m.warmupCalls,
    runMs: number('--run-ms', m.runMs),
    rounds: Math.max(1, Math.round(number('--rounds', m.rounds))),
    minCalls: m.minCalls,
    maxCalls: m.maxCalls,
    fixedCalls: m.fixedCalls,
    forged: m.forged,
    memory: { ...m.memory, calls: Math.max(1, Math.round(number('--memory-calls', m.memory.calls))) },
    micro: m.micro,
    macaroon: m.macaroon,
    audit: m.audit,
    configs: chosen,
    only: list('--only'),
    skip,
    profile: {
      on: has('--profile'),
      base,
      calls: Math.max(1, Math.round(number('--profile-calls', m.profileCalls))),
      // Alternating rounds, so drift loads both configurations alike.
      rounds: mode === 'tiny' ? 1 : 4,
      intervalUs: Math.max(10, Math.round(number('--profile-interval', 100))),
      dir: profileDir,
    },
    // A profile run does not replace the last measurement's results.
    out: path.resolve(value('--out') ?? (has('--profile') ? path.join(profileDir, 'profiles.json') : path.join(REPO_ROOT, 'bench', 'results.json'))),
  };
}

/** Sections a mode runs unless --only names them. */
const OFF_BY_DEFAULT: Record<Mode, readonly Section[]> = { full: [], quick: ['macaroon', 'audit'], tiny: [] };

/** Whether a section (or, for 'grpc', the case with this id) is selected. */
export function selected(o: BenchOptions, section: Section, caseId?: string): boolean {
  const matches = (term: string) => term === section || (caseId !== undefined && caseId.includes(term));
  if (o.skip.some(matches)) return false;
  if (o.only) return o.only.some(matches);
  return !OFF_BY_DEFAULT[o.mode].includes(section);
}
