// An OpenTelemetry SpanExporter that writes reqauth decisions into the audit store: every
// span carrying `reqauth.decision` becomes one row, every other span is ignored.
//
// The SDK's types are described structurally here rather than imported, so this module (and
// its .d.ts) loads without any OpenTelemetry SDK package and fits both the 2.x
// (`@opentelemetry/sdk-trace-base`) and 3.x (`@opentelemetry/sdk-trace`) span processors:
// the SDK passes a ReadableSpan, which has everything `ExportableSpan` names.
import { ATTR } from '../attributes';
import { AuditRecordInput, AuditStore, AuditStoreOptions } from './store';

/** `ExportResultCode` of `@opentelemetry/core`: 0 success, 1 failure. */
export const ExportResultCode = { SUCCESS: 0, FAILED: 1 } as const;

export interface ExportResult {
  code: (typeof ExportResultCode)[keyof typeof ExportResultCode];
  error?: Error;
}

/** The parts of an SDK `ReadableSpan` the exporter reads. */
export interface ExportableSpan {
  readonly name: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** `[seconds, nanoseconds]` since the epoch. */
  readonly startTime: readonly [number, number];
  spanContext(): { traceId: string; spanId: string };
}

export interface AuditSpanExporterOptions {
  /** Close the store on shutdown(). Default true. */
  readonly closeStoreOnShutdown?: boolean;
  /** Told about a batch that could not be stored (the SDK is told too, through the result). */
  readonly onError?: (error: Error) => void;
}

export class AuditSpanExporter {
  readonly store: AuditStore;
  private readonly closeStore: boolean;
  private readonly onError: ((error: Error) => void) | undefined;
  private stopped = false;

  constructor(store: AuditStore, options: AuditSpanExporterOptions = {}) {
    this.store = store;
    this.closeStore = options.closeStoreOnShutdown ?? true;
    this.onError = options.onError;
  }

  /** Opens (or creates) the store at `path` and exports into it; shutdown() closes it. */
  static open(path: string, options: AuditStoreOptions & AuditSpanExporterOptions = {}): AuditSpanExporter {
    return new AuditSpanExporter(new AuditStore(path, options), options);
  }

  /**
   * Stores the reqauth decisions among `spans` in one transaction and reports the outcome
   * through `resultCallback`, exactly once. Never throws: a failure is a FAILED result.
   */
  export(spans: readonly ExportableSpan[], resultCallback: (result: ExportResult) => void): void {
    let result: ExportResult;
    if (this.stopped) {
      result = { code: ExportResultCode.FAILED, error: new Error('AuditSpanExporter is shut down') };
    } else {
      try {
        const rows: AuditRecordInput[] = [];
        for (const span of spans) {
          const row = auditRecordFromSpan(span);
          if (row) rows.push(row);
        }
        this.store.insert(rows);
        result = { code: ExportResultCode.SUCCESS };
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        result = { code: ExportResultCode.FAILED, error };
        try {
          this.onError?.(error);
        } catch {
          // A throwing error hook must not reach the SDK either.
        }
      }
    }
    resultCallback(result);
  }

  /** Each export() writes synchronously: nothing is ever pending. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      try {
        if (this.closeStore) this.store.close();
      } catch {
        // Closing failed (e.g. already closed by its owner): nothing left to do.
      }
    }
    return Promise.resolve();
  }
}

/** The store row for a span with `reqauth.decision`, or undefined for any other span. */
export function auditRecordFromSpan(span: ExportableSpan): AuditRecordInput | undefined {
  const a = span.attributes;
  const decision = text(a[ATTR.decision]);
  if (decision === null) return undefined;
  const [seconds, nanos] = span.startTime;
  const ctx = span.spanContext();
  const service = text(a[ATTR.rpcService]);
  const rpcMethod = text(a[ATTR.rpcMethod]);
  const method = text(a[ATTR.method]) ?? (service !== null && rpcMethod !== null ? `/${service}/${rpcMethod}` : span.name);
  return {
    timeMs: seconds * 1000 + nanos / 1e6,
    decision,
    reason: text(a[ATTR.reason]),
    principal: text(a[ATTR.principal]),
    user: text(a[ATTR.user]) ?? text(a[ATTR.userId]),
    role: text(a[ATTR.role]) ?? list(a[ATTR.roles]),
    audience: text(a[ATTR.audience]),
    method,
    traceId: ctx.traceId || null,
    spanId: ctx.spanId || null,
    keyId: text(a[ATTR.keyId]),
    macaroonId: text(a[ATTR.macaroonId]),
    chain: text(a[ATTR.chain]),
  };
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function list(v: unknown): string | null {
  return Array.isArray(v) ? v.filter((x) => typeof x === 'string').join(',') : null;
}
