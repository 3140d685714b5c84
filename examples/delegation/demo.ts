// `npm run example:delegation`: the token service, the frontend and the ledger in one
// process, each on its own loopback port behind its own reqauth server. Web logs alice in
// (password, then an MFA discharge), pays a bill through the frontend, and the frontend
// transfers for alice at the ledger with a macaroon delegated to it. Then a few refusals.
// Every line starting with [service] is that service's own reqauth audit: who called, as
// which principal, for which user, along which chain — or why the call was refused.
//
//   npm run example:delegation -- [--user alice] [--amount 1250] [--payee acc-bob]
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { onBehalfOf, presentMacaroon } from '../../interceptors';
import { AuditEvent, isThirdParty, Macaroon } from '../../src';
import { AUDIENCES, METHODS, PRINCIPALS, unary } from './definition';
import { RunningService, startDelegationExample } from './services';
import { totp } from './token-service';
import { DEMO_USERS } from './users';
import { printable, quoted } from '../../cli/printable';
import { asUser, login, parseToken, payBill, possession } from './web';

/** A service's audit line. Claims and the method path come from requests: printed escaped. */
export function formatAudit(service: string, e: AuditEvent): string {
  const c = e.claims;
  const who = c
    ? `principal=${printable(c.principal)}${c.onBehalfOf ? ` user=${printable(c.onBehalfOf)}${c.userVerified ? ' (proven)' : ' (asserted)'}` : ''}${c.chain.length ? ` chain=${c.chain.map(printable).join(' -> ')}` : ''}`
    : '(no verified claims)';
  return `    [${service}] ${e.decision === 'allow' ? 'ALLOW' : 'DENY '} ${printable(e.method)} ${who}${e.reason ? ` reason=${e.reason}` : ''}`;
}

/** A macaroon's caveats, one line each; their text is whatever a holder added, so escaped. */
export function describeMacaroon(m: Macaroon): string[] {
  const text = (b: Uint8Array) => quoted(Buffer.from(b).toString('utf8')).slice(1, -1);
  return m.caveats.map((c) => (isThirdParty(c) ? `third-party ${quoted(Buffer.from(c.identifier).toString('utf8'))} at ${c.location === undefined ? '?' : printable(c.location)}` : text(c.identifier)));
}

function step(text: string): void {
  console.log(`\n== ${text}`);
}

/**
 * Runs a call expected to be refused; prints the status the caller saw and the audited
 * reason, and whether the service's handler ran. `byHandler`: reqauth lets the call through
 * and the handler itself refuses it (an application check).
 */
async function refused(what: string, service: RunningService, call: () => Promise<unknown>, byHandler = false): Promise<void> {
  step(`refused: ${what}`);
  const handled = service.calls.length;
  try {
    await call();
    console.log('    UNEXPECTED: the call succeeded');
    process.exitCode = 1;
  } catch (err) {
    const e = err as grpc.ServiceError;
    const audited = service.audit.at(-1);
    if (byHandler) {
      console.log(`    caller saw ${grpc.status[e.code]} "${e.details}"; ${service.name} audit: ${audited?.decision} (authenticated); its handler refused it`);
    } else {
      console.log(`    caller saw ${grpc.status[e.code]} "${e.details}"; ${service.name} audit: ${audited?.decision} reason=${audited?.reason}; handler ran: ${service.calls.length !== handled ? 'YES' : 'no'}`);
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string', default: 'alice' },
      amount: { type: 'string', default: '1250' },
      payee: { type: 'string', default: 'acc-bob' },
    },
  });
  const user = values.user;
  const known = DEMO_USERS[user];
  if (!known) throw new Error(`--user: one of ${Object.keys(DEMO_USERS).join(', ')}`);

  const ex = await startDelegationExample({ onAudit: (service, e) => console.log(formatAudit(service, e)) });
  try {
    console.log(`tokens on ${ex.tokens.target}, frontend on ${ex.frontend.target}, ledger on ${ex.ledger.target}`);
    const web = {
      tokens: ex.tokensClient(ex.credential(AUDIENCES.tokens, PRINCIPALS.web)),
      shop: ex.shopClient(ex.credential(AUDIENCES.frontend, PRINCIPALS.web)),
    };
    // What a compromised or buggy frontend could do with its own credentials, bypassing its code.
    const rogueFrontend = {
      tokens: ex.tokensClient(ex.credential(AUDIENCES.tokens, PRINCIPALS.frontend)),
      ledger: ex.ledgerClient(ex.credential(AUDIENCES.ledger, PRINCIPALS.frontend, ['teller'])),
    };

    step(`web -> tokens: Login(${user}, password), then Discharge(mfa caveat, one-time code)`);
    const session = await login(web.tokens, user, known.password, () => totp(known.totpSecret, Date.now()));
    console.log(`    ${user}'s macaroon, as web holds it (its caveats):`);
    for (const line of describeMacaroon(session.root)) console.log(`      ${line}`);
    console.log(`    discharges: ${session.discharges.length}, each bound to the root (bindForRequest)`);

    step(`web -> tokens: Delegate(frontend, Transfer), then web -> frontend: PayBill; frontend -> tokens: Redeem; frontend -> ledger: Transfer`);
    const paid = await payBill(web.tokens, web.shop, session, { billId: 'b-1001', payeeAccount: values.payee, amount: Number(values.amount) });
    console.log(`    PayBill -> transaction ${paid.transactionId}, ${paid.fromAccount} balance ${paid.fromBalance}`);
    const entry = ex.ledger.ledger.journal.at(-1)!;
    const [id, from, to] = [entry.tx.id, entry.tx.fromAccount, entry.tx.toAccount].map(printable);
    console.log(`    ledger journal: ${id} ${from} -> ${to} ${entry.tx.amount} by principal=${printable(entry.principal)} for user=${entry.onBehalfOf === undefined ? '-' : printable(entry.onBehalfOf)}`);

    console.log('\n---- refusals (the caller sees a generic status; the reason is in the service audit)');

    await refused(`${user}'s serialized macaroon (Login's response, leaked from web) used by principal frontend at the ledger`, ex.ledger, () =>
      unary(rogueFrontend.ledger, 'transfer', { transaction: { id: 'stolen-1', fromAccount: 'acc-alice', toAccount: 'acc-mallory', amount: 999 } }, presentMacaroon({ ...possession(session), root: parseToken(session.serialized) })),
    );

    await refused(`${user}'s macaroon as captured from a request (signature withheld) replayed by principal frontend`, ex.ledger, () =>
      unary(rogueFrontend.ledger, 'transfer', { transaction: { id: 'captured-1', fromAccount: 'acc-alice', toAccount: 'acc-mallory', amount: 999 } }, presentMacaroon({ ...possession(session), root: { ...session.root, signature: new Uint8Array(32) } })),
    );

    await refused(`web presents ${user}'s macaroon without the MFA discharge`, ex.frontend, () =>
      unary(web.shop, 'payBill', { billId: 'b-1002', payeeAccount: values.payee, amount: 100, grant: '' }, presentMacaroon({ ...possession(session), discharges: [] }, onBehalfOf(user))),
    );

    await refused(`the frontend's delegated macaroon (method Transfer only) used for GetBalance`, ex.ledger, async () => {
      const { grant } = await unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }, asUser(session));
      const delegated = parseToken((await unary(rogueFrontend.tokens, 'redeem', { grant }, onBehalfOf(user))).macaroon);
      console.log(`    (delegated macaroon: ${describeMacaroon(delegated).join('; ')})`);
      return unary(rogueFrontend.ledger, 'getBalance', { account: 'acc-alice' }, presentMacaroon({ root: delegated, discharges: [], presentation: 'possession' }, onBehalfOf(user)));
    });

    await refused(`an expired macaroon for ${user} (minted with expires in the past)`, ex.frontend, () => {
      const expired = ex.tokens.impl.mintLoginMacaroon(user, PRINCIPALS.web, { lifetimeMs: -60_000, mfa: false });
      return unary(web.shop, 'payBill', { billId: 'b-1003', payeeAccount: values.payee, amount: 100, grant: '' }, presentMacaroon({ root: expired, discharges: [], presentation: 'possession' }));
    });

    await refused(`the frontend redeems a grant for ${user} while naming another user`, ex.tokens, async () => {
      const { grant } = await unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }, asUser(session));
      return unary(rogueFrontend.tokens, 'redeem', { grant }, onBehalfOf('bob'));
    }, true);
  } finally {
    await ex.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  });
}
