// Interoperability with a real independent implementation: Debian's python3-pymacaroons,
// run under /usr/bin/python3 (Debian's packages load there, not under a python3 earlier on
// PATH). Both directions: pymacaroons' tokens (first- and third-party caveats, a bound
// discharge; V1 and V2) verify here, and ours verify there. Skipped when it is not installed.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
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

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot(), 'test', 'macaroon', 'interop', 'pymacaroons_roundtrip.py');

function python(args: string[], input?: string): string {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { input, encoding: 'utf8', timeout: 15000 });
  if (r.status !== 0) throw new Error(`pymacaroons driver failed: ${r.stderr}`);
  return r.stdout;
}

describe('macaroon interop: pymacaroons (python3-pymacaroons)', function () {
  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import pymacaroons'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      // CI installs it (scripts/install-test-deps.sh): there, a missing peer is a failure.
      if (process.env['CI']) throw new Error(`${PYTHON} cannot import pymacaroons on CI`);
      console.log(`      skipped: ${PYTHON} cannot import pymacaroons (apt-get install -y python3-pymacaroons)`);
      this.skip();
    }
  });

  it('macaroons minted by pymacaroons verify here (V1 and V2, third-party caveat, bound discharge)', () => {
    const minted = JSON.parse(python(['mint'])) as { key: string; exact: string[]; tokens: { format: string; root: string; discharges: string[] }[] };
    expect(minted.tokens.map((t) => t.format)).to.deep.equal(['v1', 'v2']);
    for (const t of minted.tokens) {
      const root = parsed(t.root);
      const ds = t.discharges.map(parsed);
      expect(verifyMacaroon(root, utf8(minted.key), ds, exact(...minted.exact)), t.format).to.include({ ok: true });
      expect(verifyMacaroon(root, utf8(minted.key), ds, exact(minted.exact[0]!)), t.format).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
      expect(verifyMacaroon(root, utf8(minted.key), [], exact(...minted.exact)), t.format).to.include({ ok: false, reason: 'macaroon_discharge_missing' });
    }
  });

  for (const format of ['v1', 'v2'] as const) {
    it(`our ${format} macaroons verify in pymacaroons, and a wrong predicate is refused there`, () => {
      const key = 'our root key, thirty-two bytes!!';
      const caveatKey = 'our caveat key, also 32 bytes!!!';
      let root = mintMacaroon({ rootKey: utf8(key), identifier: 'ts-root', location: 'https://svc' });
      root = addFirstPartyCaveat(root, 'user = bob');
      root = addThirdPartyCaveat(root, { caveatKey: utf8(caveatKey), caveatId: 'ts-tp', location: 'https://auth' });
      const discharge = bindForRequest(root, addFirstPartyCaveat(mintMacaroon({ rootKey: utf8(caveatKey), identifier: 'ts-tp', location: 'https://auth' }), 'time < 2031'));
      const request = (exactPredicates: string[]) =>
        JSON.parse(python(['verify'], JSON.stringify({ key, exact: exactPredicates, root: serializeMacaroon(root, format), discharges: [serializeMacaroon(discharge, format)] })));
      expect(request(['user = bob', 'time < 2031'])).to.deep.equal({ ok: true });
      expect(request(['user = bob'])).to.include({ ok: false });
    });
  }
});
