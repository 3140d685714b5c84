// AuditSpanExporter under the real OpenTelemetry SDK (BasicTracerProvider +
// SimpleSpanProcessor): reqauth decision spans land in the store, other spans do not, and
// failures reach the SDK as a FAILED result, never as an exception.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResult as SdkExportResult, ExportResultCode as SdkExportResultCode } from '@opentelemetry/core';
import { BasicTracerProvider, ReadableSpan, SimpleSpanProcessor, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AuditEvent } from '../../src/audit/event';
import { ATTR, auditAttributes } from '../../src/audit/attributes';
import { AuditSpanExporter, AuditStore, ExportResult, ExportResultCode } from '../../src/audit/store';
import { Claims } from '../../src/verifier';

const TRANSFER = '/ledger.v1.LedgerService/Transfer';

function claims(fields: Partial<Claims> = {}): Claims {
  return {
    principal: 'frontend',
    roles: ['teller', 'reader'],
    onBehalfOf: 'alice',
    userVerified: false,
    userRoles: undefined,
    chain: [],
    macaroonId: undefined,
    audience: 'ledger',
    method: TRANSFER,
    keyId: 'k1',
    issuedAtMs: Date.now(),
    ...fields,
  };
}

function event(fields: Partial<AuditEvent>): AuditEvent {
  return { decision: 'allow', reason: undefined, method: TRANSFER, claims: claims(), public: false, timeMs: Date.now(), peer: undefined, ...fields };
}

describe('AuditSpanExporter', function () {
  let dir: string;
  let store: AuditStore;
  let exporter: AuditSpanExporter;
  let provider: BasicTracerProvider;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-audit-exp-'));
    store = new AuditStore(join(dir, 'audit.db'));
    exporter = new AuditSpanExporter(store);
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  });

  afterEach(async function () {
    await provider.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is an SDK SpanExporter (types) and its result codes are the SDK\'s', function () {
    const asSdk: SpanExporter = exporter;
    expect(asSdk).to.equal(exporter);
    const ours: ExportResult = { code: ExportResultCode.FAILED };
    const theirs: SdkExportResult = ours;
    expect(theirs.code).to.equal(SdkExportResultCode.FAILED);
    expect(ExportResultCode.SUCCESS).to.equal(SdkExportResultCode.SUCCESS);
  });

  it('stores spans carrying reqauth.decision and ignores every other span', async function () {
    const tracer = provider.getTracer('reqauth-test');
    const started = Date.now();
    const allowed = tracer.startSpan('ledger.v1.LedgerService/Transfer', { attributes: auditAttributes(event({})) });
    allowed.end();
    tracer.startSpan('unrelated', { attributes: { 'http.method': 'GET', 'reqauth.principal': 'not-a-decision' } }).end();
    const denied = tracer.startSpan('reqauth deny', {
      attributes: auditAttributes(event({ decision: 'deny', reason: 'missing_role', claims: claims({ principal: 'backoffice', roles: ['auditor'], onBehalfOf: undefined, macaroonId: 'mac-7', chain: ['alice', 'frontend', 'backoffice'] }) })),
    });
    denied.end();
    const anonymous = tracer.startSpan('reqauth deny', { attributes: auditAttributes(event({ decision: 'deny', reason: 'bad_digest', method: '/ledger.v1.LedgerService/Close', claims: undefined })) });
    anonymous.end();
    await provider.forceFlush();

    const rows = store.query();
    expect(rows).to.have.length(3);
    expect(rows.map((r) => r.spanId)).to.have.members([allowed, denied, anonymous].map((s) => s.spanContext().spanId));
    const byReason = (reason: string | null) => rows.find((r) => r.reason === reason)!;

    const a = byReason(null);
    expect(a).to.include({ decision: 'allow', principal: 'frontend', user: 'alice', role: 'teller,reader', audience: 'ledger', method: TRANSFER, keyId: 'k1', macaroonId: null, chain: null });
    expect(a.traceId).to.equal(allowed.spanContext().traceId).and.to.match(/^[0-9a-f]{32}$/);
    expect(a.timeMs).to.be.within(started - 1, Date.now() + 1);

    const d = byReason('missing_role');
    expect(d).to.include({ decision: 'deny', principal: 'backoffice', user: null, role: 'auditor', macaroonId: 'mac-7', chain: 'alice>frontend>backoffice' });

    const n = byReason('bad_digest');
    expect(n).to.include({ decision: 'deny', principal: null, user: null, role: null, method: '/ledger.v1.LedgerService/Close' });
    expect(n.traceId).to.equal(anonymous.spanContext().traceId);

    expect(store.query({ decision: 'deny' }).map((r) => r.reason)).to.deep.equal(['bad_digest', 'missing_role']);
  });

  it('reports success for a batch with no reqauth span (nothing to store)', function () {
    const results: ExportResult[] = [];
    exporter.export([], (r) => results.push(r));
    expect(results).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(store.count()).to.equal(0);
  });

  it('reports FAILED (once, without throwing) when the store cannot take the batch, and after shutdown', async function () {
    const errors: Error[] = [];
    const own = new AuditSpanExporter(new AuditStore(':memory:'), { onError: (e) => errors.push(e) });
    const span = fakeSpan({ [ATTR.decision]: 'allow', [ATTR.method]: TRANSFER });
    own.store.close(); // e.g. closed under the exporter by someone else
    const results: ExportResult[] = [];
    expect(() => own.export([span], (r) => results.push(r))).not.to.throw();
    expect(results).to.have.length(1);
    expect(results[0]!.code).to.equal(ExportResultCode.FAILED);
    expect(results[0]!.error).to.be.instanceOf(Error);
    expect(errors).to.have.length(1);

    // A span the exporter cannot read (a broken SDK object) is a failure too, not a throw.
    const live = new AuditSpanExporter(new AuditStore(':memory:'), { onError: () => { throw new Error('hook throws'); } });
    const broken = { ...span, spanContext: () => { throw new Error('boom'); } };
    const r2: ExportResult[] = [];
    expect(() => live.export([broken], (r) => r2.push(r))).not.to.throw();
    expect(r2.map((r) => r.code)).to.deep.equal([ExportResultCode.FAILED]);

    await live.shutdown();
    expect(live.store.isOpen).to.equal(false); // shutdown closes the store
    const r3: ExportResult[] = [];
    live.export([span], (r) => r3.push(r));
    expect(r3.map((r) => r.code)).to.deep.equal([ExportResultCode.FAILED]);
    await live.shutdown(); // idempotent
    await own.shutdown();
  });

  it('shutdown through the provider closes the store; closeStoreOnShutdown: false keeps it', async function () {
    await provider.shutdown();
    expect(store.isOpen).to.equal(false);
    const kept = new AuditStore(':memory:');
    const keeper = new AuditSpanExporter(kept, { closeStoreOnShutdown: false });
    await keeper.shutdown();
    expect(kept.isOpen).to.equal(true);
    kept.close();
  });

  it('open(path) creates the store; without reqauth.method the path comes from rpc.service and rpc.method', async function () {
    const path = join(dir, 'opened.db');
    const opened = AuditSpanExporter.open(path, { retentionDays: 7 });
    const p = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(opened)] });
    // No reqauth.method: the method is rebuilt from rpc.service and rpc.method.
    p.getTracer('t').startSpan('grpc.ledger.v1.LedgerService/Transfer', { attributes: { [ATTR.decision]: 'allow', [ATTR.rpcService]: 'ledger.v1.LedgerService', [ATTR.rpcMethod]: 'Transfer' } }).end();
    await p.shutdown();
    const reader = new AuditStore(path, { readonly: true });
    try {
      expect(reader.query().map((r) => r.method)).to.deep.equal([TRANSFER]);
    } finally {
      reader.close();
    }
  });
});

function fakeSpan(attributes: Record<string, unknown>): ReadableSpan {
  return {
    name: 'fake',
    attributes,
    startTime: [Math.floor(Date.now() / 1000), 0],
    spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
  } as unknown as ReadableSpan;
}
