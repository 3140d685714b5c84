// OpenTelemetry for the examples and the demo: the standard Node SDK (NodeSDK), configured
// by the standard OTEL_* variables, with gRPC instrumentation. Loaded with
// `node --require dist/examples/otel-preload.js` so that it runs before anything imports
// @grpc/grpc-js: instrumentation-grpc can only patch grpc-js it sees being loaded. (The
// library itself uses @opentelemetry/api only; the SDK lives here, in the examples.)
//
// Every variable NodeSDK reads works: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_EXPORTER (otlp, console, zipkin, none), OTEL_EXPORTER_OTLP_ENDPOINT and
// _TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (grpc, http/protobuf, http/json), _HEADERS,
// _TIMEOUT, OTEL_BSP_*, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS, OTEL_LOG_LEVEL, ...
//
// Two choices of the examples', not the SDK's:
// - With no endpoint and no exporter named, nothing is exported (the SDK would send to
//   localhost:4318): the demo needs no collector.
// - REQAUTH_AUDIT_DB=FILE also stores reqauth's decisions in that SQLite audit store.
//
// Telemetry never decides an example's fate: a collector that is down, slow or answering
// errors is reported (OTEL_LOG_LEVEL shows more), never fails or crashes the process, and
// flushing at exit waits at most the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as path from 'node:path';
import { AuditSpanExporter } from '../src/audit/store';

const env = process.env;
const set = (name: string) => (env[name] ?? '').trim() !== '';

// The script's name when the environment names no service (the SDK would say unknown_service).
const named = set('OTEL_SERVICE_NAME') || /(^|,)\s*service\.name\s*=/.test(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '');
const serviceName = named ? undefined : path.basename(process.argv[1] ?? 'reqauth-example', '.js');
const endpoint = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'].some(set);
for (const signal of ['TRACES', 'METRICS', 'LOGS']) {
  if (!endpoint && !set(`OTEL_${signal}_EXPORTER`)) env[`OTEL_${signal}_EXPORTER`] = 'none';
}

/**
 * The span processors NodeSDK would build from OTEL_TRACES_EXPORTER and the OTLP protocol.
 * Needed only with the audit store: NodeSDK reads the environment only when it is given no
 * span processors of its own. Each exporter still reads its endpoint, headers and timeout.
 */
function processorsFromEnv(): SpanProcessor[] {
  const names = (env['OTEL_TRACES_EXPORTER'] ?? 'otlp').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.includes('none')) return [];
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf').trim();
  const otlp = (): SpanExporter => (protocol === 'grpc' ? new OtlpGrpcExporter() : protocol === 'http/json' ? new OtlpJsonExporter() : new OtlpProtoExporter());
  return names.flatMap((name): SpanProcessor[] => {
    if (name === 'otlp') return [new BatchSpanProcessor(otlp())];
    if (name === 'console') return [new SimpleSpanProcessor(new ConsoleSpanExporter())];
    console.error(`otel-preload: OTEL_TRACES_EXPORTER=${name} is not supported with REQAUTH_AUDIT_DB (otlp, console, none)`);
    return [];
  });
}

const auditDb = env['REQAUTH_AUDIT_DB'];
const sdk = new NodeSDK({
  instrumentations: [new GrpcInstrumentation()],
  ...(serviceName ? { serviceName } : {}),
  // Written as each span ends, so the store is complete whenever it is read.
  ...(auditDb ? { spanProcessors: [...processorsFromEnv(), new SimpleSpanProcessor(AuditSpanExporter.open(auditDb))] } : {}),
});
sdk.start();

// Flush what is batched when the process runs out of work. A failed export is reported,
// never rethrown: an unhandled rejection here would turn a finished, successful run into
// exit code 1. No signal handlers: they would keep alive a process that should end on SIGTERM.
process.once('beforeExit', () => {
  sdk.shutdown().catch((err: unknown) => {
    console.error(`otel-preload: telemetry not fully exported (${err instanceof Error ? err.message : String(err)})`);
  });
});
