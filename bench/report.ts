// The bench's readable output: one table per case, then the targets of issue 10 judged on
// this run's own numbers, then the refusal cost, memory and the core-only benches.
import * as path from 'node:path';
import type { AuditBenchResult } from './audit-store';
import type { ConfigSummary, ForgedResult, GrpcCaseResult, MemoryResult, MemorySide, ProfileResult, SigningCost } from './bench';
import { CONFIG_LABELS, ConfigName, FLOOR_BYTES } from './configs';
import type { ComparisonResult, MacaroonBenchConfig } from './macaroon';
import type { MicroResult } from './micro';
import type { BenchOptions } from './options';
import type { Spread } from './stats';

const MiB = 1024 * 1024;

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';
const ratio = (s: Spread | undefined) => (s ? `${s.median.toFixed(3)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})` : '-');
const signed = (n: number, digits = 0) => `${n >= 0 ? '+' : ''}${fmt(n, digits)}`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Columns: the first `left` left-aligned, the rest right-aligned; a rule under the header. */
export function table(rows: string[][], left = 1): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export function header(o: BenchOptions, m: { node: string; cpus: number; cpuModel: string; grpcJs: string }, load: number[]): string {
  return [
    '',
    `reqauth bench (${o.mode}): node ${m.node}, grpc-js ${m.grpcJs}, ${m.cpus} x ${m.cpuModel}; load average at start ${load.map((l) => l.toFixed(2)).join(' ')}`,
    `Every configuration has its own client and server process. ${o.rounds} interleaved rounds per case (order rotating);`,
    'each run is the same fixed number of calls in every configuration. Ratios are per round (configuration / plain, or',
    '/ floor, of the same round): median (min-max over rounds). CPU µs per call: process.cpuUsage over the run, read in',
    'each process, median over rounds; "x plain by CPU" = plain\'s client+server CPU per call / this one\'s, per round (the',
    'ratio a CPU-bound machine would see; steadier than calls/s when other work shares the machine). Latency percentiles',
    `pool all rounds. Floor = no-op interceptor pair + one unique ${FLOOR_BYTES} B binary metadata entry per call, no crypto.`,
    'On a shared machine absolute numbers move between runs; compare ratios from the same run.',
  ].join('\n');
}

export function grpcCase(res: GrpcCaseResult, summary: Partial<Record<ConfigName, ConfigSummary>>, sha256UsPerMiB: number | undefined): string {
  const c = res.case;
  const rows: string[][] = [['configuration', 'calls/s', 'x plain (min-max)', 'x floor', 'x plain by CPU', 'client µs/call', 'server µs/call', 'p50 ms', 'p99 ms']];
  for (const [config, s] of Object.entries(summary) as [ConfigName, ConfigSummary][]) {
    rows.push([
      CONFIG_LABELS[config],
      fmt(s.callsPerSec.median),
      ratio(s.vsPlain),
      s.vsFloor ? s.vsFloor.median.toFixed(3) : '-',
      s.cpuVsPlain.median.toFixed(3),
      fmt(s.cpuUsPerCall.client.median, 1),
      fmt(s.cpuUsPerCall.server.median, 1),
      s.latencyMs.p50.toFixed(3),
      s.latencyMs.p99.toFixed(3),
    ]);
  }
  let text = `\n${c.id}: ${c.describe}; ${res.callsPerRun.toLocaleString('en-US')} calls per run\n${table(rows)}`;
  const r = summary.reqauth;
  if (r?.cpuAboveFloor) {
    const a = r.cpuAboveFloor;
    text += `\nreqauth's CPU per call above the floor's (per round): client ${signed(a.client.median, 1)} µs (${range(a.client)}), server ${signed(a.server.median, 1)} µs (${range(a.server)})`;
  }
  if (sha256UsPerMiB !== undefined && c.bytes >= 64 * 1024 && r) {
    const p = extraPasses(summary, c.bytes, sha256UsPerMiB);
    text +=
      `\nreqauth's CPU per call above plain's: client ${signed(p.clientUs)} µs = ${p.client.toFixed(2)} SHA-256 passes over the message, ` +
      `server ${signed(p.serverUs)} µs = ${p.server.toFixed(2)} passes (one pass = ${fmt(p.passUs, 0)} µs here)`;
  }
  return text;
}

const range = (s: Spread) => `${fmt(s.min, 1)} to ${fmt(s.max, 1)}`;

/** reqauth's CPU per call above plain's (median of per-round differences), in µs and in SHA-256 passes over the message. */
export function extraPasses(summary: Partial<Record<ConfigName, ConfigSummary>>, bytes: number, sha256UsPerMiB: number) {
  const pass = (sha256UsPerMiB * bytes) / MiB;
  const a = summary.reqauth!.cpuAbovePlain;
  const clientUs = a.client.median;
  const serverUs = a.server.median;
  return { clientUs, serverUs, client: clientUs / pass, server: serverUs / pass, passUs: pass };
}

type SigningCase = { result: GrpcCaseResult; summary: Partial<Record<ConfigName, ConfigSummary>>; cost: SigningCost | undefined };

/** The response-signing section: each case's table, then what signing costs (issue 12 item 6). */
export function responses(cases: readonly SigningCase[]): string {
  let text = '\nResponse signing (issue 12): reqauth signs the responses of GetBalance and ListTransactions (their .proto rule) and its client\nrequires them signed; "responses unsigned" is the same reqauth with no method signing and a client requiring nothing.';
  for (const c of cases) {
    text += `\n${grpcCase(c.result, c.summary, undefined)}`;
    const k = c.cost;
    if (k) {
      text +=
        `\nsigned / unsigned (per round): throughput ${ratio(k.throughput)}, by CPU ${ratio(k.byCpu)}; ` +
        `CPU per call signing adds: client ${signed(k.cpuAdded.client.median, 1)} µs (${range(k.cpuAdded.client)}), server ${signed(k.cpuAdded.server.median, 1)} µs (${range(k.cpuAdded.server)})`;
    }
  }
  return text;
}

export interface TargetRow {
  readonly target: string;
  readonly case?: string;
  readonly value: string;
  readonly pass: boolean;
}

/** Issue 10's targets, each judged on numbers from this run. */
export function targets(
  cases: readonly { result: GrpcCaseResult; summary: Partial<Record<ConfigName, ConfigSummary>> }[],
  forged: ForgedResult | undefined,
  memory: MemoryResult | undefined,
  sha256UsPerMiB: number | undefined,
  o: BenchOptions,
  signing: readonly SigningCase[] = [],
): { rows: TargetRow[]; text: string } {
  const rows: TargetRow[] = [];
  for (const { result, summary } of cases) {
    const r = summary.reqauth;
    if (!r) continue;
    const id = result.case.id;
    if (summary.floor) {
      const f = summary.floor.vsPlain.median;
      rows.push({ target: 'within 0.05 of the floor (x plain)', case: id, value: `${r.vsPlain.median.toFixed(3)} vs ${f.toFixed(3)}`, pass: r.vsPlain.median >= f - 0.05 });
    }
    if (result.case.concurrency === 1 && result.case.bytes < MiB) {
      rows.push({ target: '>= 0.90 of plain at c=1 (aim 0.95)', case: id, value: r.vsPlain.median.toFixed(3), pass: r.vsPlain.median >= 0.9 });
    }
    if (r.cpuAboveFloor && result.case.bytes <= 100 && result.case.kind !== 'client-stream') {
      for (const side of ['client', 'server'] as const) {
        const us = r.cpuAboveFloor[side].median;
        rows.push({ target: `${side} CPU above the floor <= ~10 µs per call`, case: id, value: `${signed(us, 1)} µs`, pass: us <= 10 });
      }
    }
    if (r.vsJwt) rows.push({ target: '>= 1.5x the jose JWT pair', case: id, value: `${r.vsJwt.median.toFixed(2)}x`, pass: r.vsJwt.median >= 1.5 });
    if (result.case.bytes >= MiB && sha256UsPerMiB !== undefined && summary.plain) {
      const p = extraPasses(summary, result.case.bytes, sha256UsPerMiB);
      for (const side of ['client', 'server'] as const) {
        rows.push({ target: `1 MiB: ${side} CPU above plain <= 1.1 SHA-256 passes`, case: id, value: `${p[side].toFixed(2)} passes`, pass: p[side] <= 1.1 });
      }
    }
  }
  for (const { result, cost } of signing) {
    if (!cost) continue;
    rows.push({ target: 'signed responses >= 0.95 of reqauth without (issue 12)', case: result.case.id, value: cost.throughput.median.toFixed(3), pass: cost.throughput.median >= 0.95 });
  }
  if (forged) {
    for (const v of ['forged-principal', 'forged-macaroon-256'] as const) {
      const s = forged.vsHonest[v];
      rows.push({ target: 'a forged request <= 2x an honest one (server CPU)', case: v, value: `${s.median.toFixed(2)}x`, pass: s.median <= 2 });
    }
  }
  if (memory && memory.replayEntries > 0) {
    rows.push({ target: 'replay cache <= 100 B per remembered nonce', case: 'memory', value: `${fmt(memory.netHeapBytesPerEntry)} B`, pass: memory.netHeapBytesPerEntry <= 100 });
    const rssExcess = memory.reqauth.after.rss - memory.plain.after.rss;
    const share = memory.reqauth.afterGc.heapUsed + memory.reqauth.afterGc.arrayBuffers - (memory.plain.afterGc.heapUsed + memory.plain.afterGc.arrayBuffers);
    rows.push({ target: "RSS above plain's <= reqauth's extra live memory (the cache)", case: 'memory', value: `${mib(rssExcess)} vs ${mib(share)}`, pass: rssExcess <= share });
  }
  const t = [['target (issues 10, 12)', 'case', 'this run', 'verdict'], ...rows.map((r) => [r.target, r.case ?? '', r.value, r.pass ? 'PASS' : 'MISS'])];
  const how = `${o.rounds} rounds${o.mode === 'full' ? '' : `; ${o.mode} mode, so indicative only`}`;
  return { rows, text: rows.length ? `\nTargets, judged on this run's medians (${how}):\n${table(t, 2)}` : '' };
}

const VARIANT_LABELS = {
  honest: 'honest, no credential (accepted; handler ran)',
  'forged-principal': 'forged: random principal, MAC under a random key',
  'forged-macaroon-256': 'forged: same + macaroon, 256 third-party caveats',
} as const;

export function forged(f: ForgedResult): string {
  const rows: string[][] = [['request (reqauth server, unary 100 B)', 'header B', 'server µs/request (min-max)', 'x honest (min-max)']];
  for (const v of ['honest', 'forged-principal', 'forged-macaroon-256'] as const) {
    const s = f.serverUsPerCall[v];
    rows.push([VARIANT_LABELS[v], fmt(f.headerBytes[v]), `${fmt(s.median, 1)} (${fmt(s.min, 1)}-${fmt(s.max, 1)})`, v === 'honest' ? '1' : ratio(f.vsHonest[v])]);
  }
  return `\nRefusal cost: server CPU per request until refused (forged; every one refused, no handler ran) or answered (honest).\n${f.rounds} rounds x ${f.calls.toLocaleString('en-US')} requests per variant, concurrency ${f.concurrency}, pre-built headers sent raw\n${table(rows)}`;
}

export function memory(m: MemoryResult): string {
  const row = (name: string, s: MemorySide) => [
    name,
    mib(s.before.rss),
    mib(s.after.rss),
    mib(s.afterGc.rss),
    mib(s.before.heapUsed),
    mib(s.afterGc.heapUsed),
    mib(s.afterGc.arrayBuffers),
    fmt(s.callsPerSec),
  ];
  const rows = [['server (fresh process)', 'rss before', 'rss after', 'rss after GC', 'heap before', 'heap after GC', 'array buffers after GC', 'calls/s'], row('plain grpc-js', m.plain), row('reqauth', m.reqauth)];
  return (
    `\nServer memory after ${m.calls.toLocaleString('en-US')} unary calls of 100 B at concurrency ${m.concurrency} (heap after two full GCs, --expose-gc)\n${table(rows)}\n` +
    `replay cache: ${m.replayEntries.toLocaleString('en-US')} nonces remembered; reqauth's live memory growth (heap and array buffers) ${fmt(m.heapBytesPerEntry)} B per nonce, ` +
    `${fmt(m.netHeapBytesPerEntry)} B net of plain's growth over the same calls` +
    (m.replayEntries < m.calls
      ? `\n(fewer nonces than calls: the cache forgets a nonce once its request could no longer be accepted, 150 s after issue by default, and this run took longer)`
      : '')
  );
}

export function micro(results: readonly MicroResult[]): string {
  const rows = [['core only, in one process', 'SHA-256 ms', 'reqauth ms', 'sha256 / reqauth']];
  for (const r of results) rows.push([r.name, r.sha256Ms.toFixed(3), r.reqauthMs.toFixed(3), (r.sha256Ms / r.reqauthMs).toFixed(3)]);
  return `\n${table(rows)}`;
}

export function macaroon(results: readonly ComparisonResult[], cfg: MacaroonBenchConfig): string {
  const rows = [['macaroon verification (ops/s)', 'theirs', 'ours', 'ours / theirs', 'target']];
  for (const r of results) rows.push([r.name, fmt(r.theirs), fmt(r.ours), r.ratio.toFixed(3), `${r.ratio >= r.target ? 'PASS' : 'MISS'} >= ${r.target}`]);
  return (
    `\nMacaroon verification, parse + verify of a root with 5 first-party caveats + a third-party caveat and its bound discharge\n` +
    `(first-party caveats by exact match); ${cfg.rounds} rounds x ${cfg.runMs} ms per side, rotating order, medians\n${table(rows)}`
  );
}

const AUDIT_TARGET_MS = 100;

export function audit(a: AuditBenchResult): string {
  const f = a.fill;
  const rows = [['audit store query (ms, newest first, limit 100)', 'full scan', 'indexed', 'scan / indexed', `target < ${AUDIT_TARGET_MS} ms`]];
  for (const q of a.queries) rows.push([q.name, q.fullScanMs.toFixed(1), q.indexedMs.toFixed(3), (q.fullScanMs / q.indexedMs).toFixed(0), q.indexedMs < AUDIT_TARGET_MS ? 'PASS' : 'MISS']);
  return `\nAudit store, ${f.rows.toLocaleString('en-US')} decisions (filled in ${f.seconds.toFixed(1)} s, ${fmt(f.rowsPerSec)} rows/s, ${mib(f.dbBytes)})\n${table(rows)}`;
}

export function profiles(results: readonly ProfileResult[], o: BenchOptions): string {
  const out: string[] = [];
  for (const p of results) {
    out.push(
      `\nprofile ${p.case}: ${p.calls.toLocaleString('en-US')} calls in each configuration over ${p.rounds} alternating rounds, sampled every ${o.profile.intervalUs} µs; ` +
        `files in ${path.relative(process.cwd(), o.profile.dir) || '.'}`,
    );
    const cpu = Object.entries(p.cpuUsPerCall).map(([c, v]) => `${c} client ${v.client.toFixed(1)} server ${v.server.toFixed(1)}`);
    out.push(`CPU µs per call during the profiled runs (process.cpuUsage, median of rounds; the profiler adds its own): ${cpu.join('; ')}`);
    for (const side of ['client', 'server'] as const) {
      const d = p[side];
      out.push(`\n${side}: sampled self time ${d.subjectTotal.toFixed(1)} µs/call for reqauth vs ${d.baseTotal.toFixed(1)} for ${p.base}; frames where reqauth spends more:`);
      const rows = [['frame (self time)', '+µs/call', 'reqauth', p.base], ...d.top.map((f) => [f.frame, `+${f.delta.toFixed(2)}`, f.subject.toFixed(2), f.base.toFixed(2)])];
      out.push(table(rows));
    }
  }
  return out.join('\n');
}
