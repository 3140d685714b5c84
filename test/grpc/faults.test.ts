// A fault on the server's side refuses the call (fail closed) and never takes the process
// down: grpc-js does not catch what an interceptor throws.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { AuditEvent, CLIENT_MESSAGES, generateRootKeyring, staticKeySource } from '../../src';
import { AUDIENCE, failure, Harness, startHarness, tx, unary } from '../support/harness';

describe('a server-side fault refuses the call with INTERNAL and the server lives on', () => {
  let h: Harness;
  let keysFail = false;
  let auditFails = false;
  const audited: AuditEvent[] = [];
  before(async () => {
    const ring = generateRootKeyring();
    const keys = staticKeySource(ring, AUDIENCE);
    h = await startHarness({
      ring,
      server: {
        keys: {
          current: () => {
            if (keysFail) throw new Error('key store unreachable');
            return keys.current();
          },
        },
        audit: (e) => {
          if (auditFails) throw new Error('audit sink full');
          audited.push(e);
        },
      },
    });
  });
  after(() => h.close());

  it('a key source that throws: INTERNAL, generic message, handler never ran', async () => {
    const c = h.client(h.credential('frontend', ['teller']));
    keysFail = true;
    const err = await failure(unary(c.transfer.bind(c), { transaction: tx('fault-keys') }));
    keysFail = false;
    expect(err.code).to.equal(grpc.status.INTERNAL);
    expect(err.details).to.equal(CLIENT_MESSAGES.internal);
    expect(h.calls).to.not.include('Transfer');
    expect(audited.at(-1)?.reason).to.equal('internal_error');
  });

  it('an audit hook that throws on an allow refuses the call rather than letting it through unaudited', async () => {
    const c = h.client(h.credential('frontend', ['teller']));
    auditFails = true;
    const err = await failure(unary(c.transfer.bind(c), { transaction: tx('fault-audit') }));
    auditFails = false;
    expect(err.code).to.equal(grpc.status.INTERNAL);
    expect(h.calls).to.not.include('Transfer');
  });

  it('after the faults, honest calls succeed', async () => {
    const c = h.client(h.credential('frontend', ['teller']));
    const res = await unary(c.transfer.bind(c), { transaction: tx('after-faults') });
    expect(res).to.include({ id: 'after-faults' });
    expect(h.calls).to.include('Transfer');
  });
});
