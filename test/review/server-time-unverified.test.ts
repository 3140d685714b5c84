// Review finding (fixed): a client that required signed responses and trusts the server's time adopts
// the time from a status it then refuses as unverified. The clock listener sits nearest the
// wire, below the response check (interceptors/client.ts SigningCall.listener), so a forged
// UNAUTHENTICATED status with `reqauth-server-time` moves the client's clock, although the
// application only sees DATA_LOSS. Clock refusals are never signed (§13.3: they precede the
// nonce), so with requireSignedResponses this option can only ever adopt unverified times:
// one forged status (+1 day) makes every later call of this client fail `issued_in_future`,
// or date its requests ahead for later delivery (spec §6.4's warning).
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { RequestSigner, SERVER_TIME_KEY } from '../../src';
import { failure, Harness, startHarness, unary } from '../support/harness';

/** On the path, below reqauth's interceptor: answers every call with a forged clock refusal. */
const forgedClockRefusal: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      next(metadata, {
        onReceiveStatus(_status, nextStatus) {
          const md = new grpc.Metadata();
          md.set(SERVER_TIME_KEY, String(Date.now() + 86_400_000));
          nextStatus({ code: grpc.status.UNAUTHENTICATED, details: 'request authentication failed', metadata: md });
        },
      });
    },
  });

describe('review: a call that requires signed responses never adopts a server time (clock refusals are never signed)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('a forged clock refusal fails the call DATA_LOSS and must leave the client\'s clock alone', async () => {
    const signer = new RequestSigner(h.credential('frontdesk', ['teller']));
    const c = h.client(signer, { requireSignedResponses: true, trustServerTime: true, interceptors: [forgedClockRefusal] });
    const err = await failure(unary(c.getBalance.bind(c), { account: 'acc-alice' }));
    expect(err.code).to.equal(grpc.status.DATA_LOSS); // refused as unverified…
    // …and its server time is not adopted.
    expect(Math.abs(signer.clockOffsetMs)).to.be.below(60_000);

    // And the honest next call, without the attacker, is now refused by the real server.
    const honest = h.client(signer, { requireSignedResponses: true, trustServerTime: true });
    await unary(honest.getBalance.bind(honest), { account: 'acc-alice' });
  });
});
