// Interoperability with libmacaroons, the reference C implementation (Debian: libmacaroons0 +
// libmacaroons-dev, installed by scripts/install-test-deps.sh). The driver
// test/macaroon/interop/libmacaroons_roundtrip.c is compiled here, at test time, into a temp
// dir with the system C compiler and -lmacaroons, and driven by argv/stdout.
//
// Debian ships libmacaroons 0.3.0, whose API serializes V1 only (macaroon_serialize: base64url
// of the V1 packets; no MACAROON_V2 / MACAROON_V2J formats) and reads V1 only (V2 binary and
// V2 JSON tokens are MACAROON_INVALID; checked below). Its V1 JSON writer is compiled out of
// Debian's build (MACAROON_NO_JSON_SUPPORT). So V1 is tested, both directions, byte for byte.
//
// Off CI, the test skips when the library, its header or a C compiler is missing; on CI (env
// CI set) that is a failure, since the install script puts them there.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  mintMacaroon,
  serializeMacaroon,
  verifyMacaroon,
} from '../../src/macaroon/index.js';
import { repoRoot } from '../support/vectors.js';
import { exact, parsed, utf8 } from './support.js';

const SOURCE = join(repoRoot(), 'test', 'macaroon', 'interop', 'libmacaroons_roundtrip.c');
const COMPILERS = ['cc', 'gcc', 'clang'];

interface Minted {
  key: string;
  caveat_key: string;
  exact: string[];
  tokens: { format: string; root: string; discharges: string[] }[];
  json: { root: string; discharges: string[] } | null;
}
type Verdict = { ok: true } | { ok: false; error: string };

/** Compiles the driver; the binary's path, or why it could not be built. */
function build(dir: string): { binary: string } | { why: string } {
  const binary = join(dir, 'libmacaroons_roundtrip');
  const failures: string[] = [];
  for (const cc of COMPILERS) {
    const r = spawnSync(cc, ['-std=c99', '-O1', '-Wall', '-o', binary, SOURCE, '-lmacaroons'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error !== undefined) {
      failures.push(`${cc}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
      continue;
    }
    if (r.status === 0 && existsSync(binary)) return { binary };
    failures.push(`${cc} exited ${r.status}: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
  }
  return { why: failures.join('; ') };
}

describe('macaroon interop: libmacaroons (libmacaroons0 / libmacaroons-dev, C)', function () {
  this.timeout(60_000);
  let dir = '';
  let binary = '';

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-libmacaroons-'));
    const built = build(dir);
    if ('why' in built) {
      // CI installs libmacaroons-dev and a compiler (scripts/install-test-deps.sh): there, a
      // driver that cannot be built is a failure.
      if (process.env['CI']) throw new Error(`cannot build the libmacaroons driver on CI: ${built.why}`);
      console.log(`      skipped: cannot build the libmacaroons driver (apt-get install -y libmacaroons-dev gcc): ${built.why}`);
      this.skip();
    }
    binary = built.binary;
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[]): string {
    const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 15_000 });
    if (r.error !== undefined || r.status !== 0) throw new Error(`libmacaroons driver failed (${r.status}): ${r.error?.message ?? r.stderr}`);
    return r.stdout;
  }

  function theirVerify(key: string, root: string, discharges: string[], predicates: string[]): Verdict {
    const args = ['verify', key, root];
    for (const d of discharges) args.push('--discharge', d);
    for (const p of predicates) args.push('--exact', p);
    return JSON.parse(run(args)) as Verdict;
  }

  it('macaroons minted by libmacaroons verify here (V1: first-party and third-party caveats, bound discharge), byte for byte', () => {
    const minted = JSON.parse(run(['mint'])) as Minted;
    expect(minted.tokens.map((t) => t.format)).to.deep.equal(['v1']);
    const key = utf8(minted.key);
    for (const t of minted.tokens) {
      const root = parsed(t.root);
      const ds = t.discharges.map(parsed);
      expect(root.caveats.map((c) => c.verificationId !== undefined)).to.deep.equal([false, true]);
      expect(root.caveats[1]!.location).to.equal('https://auth');
      // Our V1 writer gives back exactly their bytes.
      expect(serializeMacaroon(root, 'v1')).to.equal(t.root);
      expect(ds.map((d) => serializeMacaroon(d, 'v1'))).to.deep.equal(t.discharges);
      expect(verifyMacaroon(root, key, ds, exact(...minted.exact))).to.include({ ok: true });
      expect(verifyMacaroon(root, key, ds, exact(minted.exact[0]!))).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
      expect(verifyMacaroon(root, key, [], exact(...minted.exact))).to.include({ ok: false, reason: 'macaroon_discharge_missing' });
      expect(verifyMacaroon(root, utf8('not the root key at all, 32 B!!!'), ds, exact(...minted.exact))).to.include({ ok: false, reason: 'macaroon_bad_signature' });
      // The unbound discharge (same chain, signature not bound to the root) is refused.
      const unbound = mintMacaroon({ rootKey: utf8(minted.caveat_key), identifier: ds[0]!.identifier, location: 'https://auth' });
      expect(verifyMacaroon(root, key, [addFirstPartyCaveat(unbound, minted.exact[1]!)], exact(...minted.exact))).to.include({ ok: false, reason: 'macaroon_bad_signature' });
    }
    // And libmacaroons itself agrees on its own tokens (the driver works).
    const t = minted.tokens[0]!;
    expect(theirVerify(minted.key, t.root, t.discharges, minted.exact)).to.deep.equal({ ok: true });
  });

  it('our V1 macaroons verify in libmacaroons; a wrong predicate, a missing or unbound discharge, a wrong key are refused there', () => {
    const key = 'our root key, thirty-two bytes!!';
    const caveatKey = 'our caveat key, also 32 bytes!!!';
    let root = mintMacaroon({ rootKey: utf8(key), identifier: 'ts-root', location: 'https://svc' });
    root = addFirstPartyCaveat(root, 'user = bob');
    root = addThirdPartyCaveat(root, { caveatKey: utf8(caveatKey), caveatId: 'ts-tp', location: 'https://auth' });
    const unbound = addFirstPartyCaveat(mintMacaroon({ rootKey: utf8(caveatKey), identifier: 'ts-tp', location: 'https://auth' }), 'time < 2031');
    const discharge = bindForRequest(root, unbound);
    const v1 = (m: Parameters<typeof serializeMacaroon>[0]) => serializeMacaroon(m, 'v1');
    const all = ['user = bob', 'time < 2031'];
    expect(theirVerify(key, v1(root), [v1(discharge)], all)).to.deep.equal({ ok: true });
    expect(theirVerify(key, v1(root), [v1(discharge)], ['user = bob'])).to.include({ ok: false });
    expect(theirVerify(key, v1(root), [], all)).to.include({ ok: false });
    expect(theirVerify(key, v1(root), [v1(unbound)], all)).to.include({ ok: false });
    expect(theirVerify('not the root key at all, 32 B!!!', v1(root), [v1(discharge)], all)).to.include({ ok: false });
    // libmacaroons reads our bytes and writes them back unchanged.
    for (const m of [root, discharge]) expect(JSON.parse(run(['reserialize', v1(m)]))).to.deep.equal({ ok: true, v1: v1(m) });
  });

  it('libmacaroons 0.3.0 reads V1 only: our V2 binary and V2 JSON are refused there (MACAROON_INVALID), not misread', () => {
    const m = addFirstPartyCaveat(mintMacaroon({ rootKey: utf8('k'), identifier: 'x', location: 'l' }), 'a = b');
    for (const format of ['v2', 'v2json'] as const) {
      expect(JSON.parse(run(['reserialize', serializeMacaroon(m, format)])), format).to.deep.equal({ ok: false, error: 'macaroon_deserialize: MACAROON_INVALID' });
    }
  });
});
