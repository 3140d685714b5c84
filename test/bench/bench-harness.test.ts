// `npm run bench` cannot rot silently: its harness runs here in a tiny configuration (a few
// calls per run, every configuration, case, section and the profile diff), and the results
// file must hold every measurement. Nothing here judges speed: the bench does, on its own.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', '..', 'bench', 'bench.js');
const CONFIGS = ['plain', 'noop', 'floor', 'reqauth', 'jwt'];
const CASES = ['unary-100B-c1', 'unary-100B-c64', 'unary-64KiB-c1', 'unary-64KiB-c64', 'client-stream-100x100B-c1', 'server-stream-100x100B-c1', 'unary-1MiB-c1'];

interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the bench harness (npm run bench, tiny configuration)', function () {
  this.timeout(90_000);
  let dir: string;
  let out: { code: number | null; stdout: string; stderr: string };
  let results: Record<string, any>; // the results file, as JSON

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-bench-'));
    out = await run(['--tiny', '--out', join(dir, 'results.json'), '--profile-dir', join(dir, 'profiles')]);
    if (out.code === 0) results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('completes, printing progress and the tables', () => {
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stderr).to.match(/\[1\/7\] unary-100B-c1: round 1\/2/);
    for (const c of CASES) expect(out.stdout).to.include(`${c}: `);
    expect(out.stdout).to.include('Targets, judged on this run');
  });

  it('measures every case in every configuration: throughput, ratios, CPU per side, latency', () => {
    expect(results['grpc'].map((g: { id: string }) => g.id)).to.deep.equal(CASES);
    for (const g of results['grpc']) {
      expect(Object.keys(g.configs)).to.deep.equal(CONFIGS);
      for (const config of CONFIGS) {
        const s = g.configs[config];
        expect(s.callsPerSec.median, `${g.id} ${config}`).to.be.greaterThan(0);
        expect(s.callsPerSec.rounds).to.have.length(2);
        expect(s.vsPlain.median).to.be.greaterThan(0);
        expect(s.vsFloor.median).to.be.greaterThan(0);
        expect(s.cpuUsPerCall.client.median).to.be.greaterThan(0);
        expect(s.cpuUsPerCall.server.median).to.be.greaterThan(0);
        expect(s.latencyMs.samples).to.equal(2 * g.callsPerRun);
        expect(s.latencyMs.p99).to.be.at.least(s.latencyMs.p50);
      }
      expect((g.configs.plain.vsPlain as Spread).rounds).to.deep.equal([1, 1]);
    }
    const big = results['grpc'].find((g: { id: string }) => g.id === 'unary-1MiB-c1');
    expect(big.extraSha256Passes.server).to.be.a('number');
  });

  it('measures signed responses against the same calls unsigned (issue 12 item 6)', () => {
    expect(results['responses'].map((g: { id: string }) => g.id)).to.deep.equal(['signed-unary-c1', 'signed-server-stream-100x100B-c1']);
    for (const g of results['responses']) {
      expect(Object.keys(g.configs)).to.deep.equal(['plain', 'reqauth-unsigned', 'reqauth']);
      for (const s of Object.values(g.configs) as { callsPerSec: Spread }[]) expect(s.callsPerSec.median, g.id).to.be.greaterThan(0);
      expect(g.signedVsUnsigned.throughput.median, g.id).to.be.greaterThan(0);
      expect(g.signedVsUnsigned.cpuAdded.server.rounds).to.have.length(2);
    }
    expect(out.stdout).to.include('signed / unsigned (per round)');
  });

  it('measures the refusal cost of forged requests against honest ones', () => {
    const f = results['forged'];
    for (const v of ['honest', 'forged-principal', 'forged-macaroon-256']) expect(f.serverUsPerCall[v].median, v).to.be.greaterThan(0);
    expect(f.headerBytes['forged-macaroon-256']).to.be.greaterThan(1000); // 256 caveats made it onto the wire
    expect(f.vsHonest['forged-macaroon-256'].median).to.be.greaterThan(0);
  });

  it("reads the servers' memory and the replay cache's entries", () => {
    const m = results['memory'];
    expect(m.replayEntries).to.equal(m.calls);
    expect(m.heapBytesPerEntry).to.be.a('number');
    for (const side of ['plain', 'reqauth']) expect(m[side].afterGc.rss).to.be.greaterThan(0);
  });

  it('keeps the core, macaroon and audit store benches', () => {
    expect(results['micro']).to.have.length(2);
    expect(results['macaroon'].results).to.have.length(2);
    expect(results['audit'].queries.length).to.be.greaterThan(0);
  });

  it('writes CPU profiles and diffs their frames', () => {
    const [p] = results['profiles'];
    const files = (Object.values(p.files) as string[][]).flat();
    expect(files).to.have.length(4); // client and server, base and reqauth, one round
    for (const file of files) expect(existsSync(file), file).to.equal(true);
    expect(p.server.subjectTotal).to.be.greaterThan(0);
    expect(p.client.top).to.be.an('array');
    expect(out.stdout).to.match(/frames where reqauth spends more/);
  });
});
