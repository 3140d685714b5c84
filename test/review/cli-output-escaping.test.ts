// Review finding (fixed): `reqauth audit` prints request-supplied text (the asserted on-behalf-of user
// any authenticated principal chooses, up to 256 bytes of UTF-8) with weaker escaping than the
// project's own rule for printing such text (examples/printable.ts: every Cc, Cf, Zl, Zp
// character escaped; spec §11.3's list for identifiers includes U+061C, U+200E-200F, U+FEFF):
//   - the table escapes C0, C1, U+2028/9, U+202A-202E, U+2066-2069 only: zero-width and
//     directional marks (U+200B-U+200F), U+061C and U+FEFF go to the terminal raw, so a user
//     "adm<ZWSP>in" reads as "admin" and an RLM reorders the line;
//   - `--json` is plain JSON.stringify, which leaves C1 controls (U+0085 NEL, U+009B CSI), bidi
//     overrides (U+202E) and U+2028/U+2029 raw — the characters examples/printable.ts's
//     printableJson exists to escape.
// `reqauth inspect` (an envelope captured from the wire, attacker-made or not) prints the same
// way, with JSON.stringify.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../src/audit/store';
import { generateRootKeyring, issueCredential, RequestSigner } from '../../src';

const CLI = join(__dirname, '..', '..', 'cli', 'reqauth.js');
const TRANSFER = '/ledger.v1.LedgerService/Transfer';

/** Characters that must never reach a terminal or log raw from a request. */
const TABLE_UNSAFE = ['\u200b', '\u200e', '\u200f', '\u061c', '\ufeff'];
const JSON_UNSAFE = ['\u0085', '\u009b', '\u202e', '\u2028'];

describe('review: reqauth audit escapes every character a request can use to disguise a line', function () {
  let dir: string;
  let db: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-review-audit-'));
    db = join(dir, 'audit.db');
    const store = new AuditStore(db);
    const now = Date.now();
    const users = ['adm\u200bin', '\u200fbob', '\u061calice', '\ufeffcarol', 'dave\u200e', 'x\u0085y', 'x\u009b2Jy', '\u202eecila', 'x\u2028y'];
    store.insert(users.map((user, i) => ({ timeMs: now - (i + 1) * 1000, decision: 'allow', method: TRANSFER, principal: 'frontend', user, role: 'teller' })));
    store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the table (and --wide) print no zero-width, directional mark, ALM or BOM raw', function () {
    for (const args of [[], ['--wide']]) {
      const r = spawnSync(process.execPath, [CLI, 'audit', '--db', db, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      const raw = TABLE_UNSAFE.filter((c) => r.stdout.includes(c)).map((c) => `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      // Escaped, as cli/printable.ts escapes request-supplied text everywhere.
      expect(raw, `audit ${args.join(' ')}`).to.deep.equal([]);
    }
  });

  it('--json prints no C1 control, bidi override or line separator raw', function () {
    const r = spawnSync(process.execPath, [CLI, 'audit', '--db', db, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const raw = JSON_UNSAFE.filter((c) => r.stdout.includes(c)).map((c) => `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    // printableJson: JSON.stringify leaves these raw, the CLI does not.
    expect(raw).to.deep.equal([]);
    // Still valid JSON lines that give back the exact values.
    const users = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { user: string }).user);
    expect(users).to.include('\u202eecila');
  });

  it('reqauth inspect of a captured envelope prints no C1 control, bidi override or line separator raw', function () {
    const cred = issueCredential(generateRootKeyring(), 'ledger', 'frontend', ['teller']);
    const { value } = new RequestSigner(cred).sign(TRANSFER, Buffer.alloc(3), { onBehalfOf: '\u202eecila\u0085\u2028' });
    const r = spawnSync(process.execPath, [CLI, 'inspect', Buffer.from(value).toString('base64')], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { onBehalfOf: string }).onBehalfOf).to.equal('\u202eecila\u0085\u2028');
    const raw = JSON_UNSAFE.filter((c) => r.stdout.includes(c)).map((c) => `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    // The same for an inspected envelope.
    expect(raw).to.deep.equal([]);
  });
});
