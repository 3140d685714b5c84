// OpenTelemetry for the examples and the demo, from the standard environment variables.
// Loaded with `node --require dist/examples/otel-preload.js` so that it runs before anything
// imports @grpc/grpc-js: instrumentation-grpc can only patch grpc-js it sees being loaded.
// (The library itself uses @opentelemetry/api only; the SDK lives here, in the examples.)
//
//   OTEL_SERVICE_NAME                 the resource's service.name (default: the script name)
//   OTEL_TRACES_EXPORTER              otlp | console | none; default otlp when an OTLP endpoint
//                                     is set, none otherwise (no collector needed to run)
//   OTEL_EXPORTER_OTLP_ENDPOINT       e.g. http://localhost:4318 (Jaeger's OTLP/HTTP port);
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  read by the exporter itself
//   OTEL_EXPORTER_OTLP_PROTOCOL       http/protobuf (the one supported here)
//   REQAUTH_AUDIT_DB                  also store reqauth's decisions in this SQLite audit store
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as path from 'node:path';
import { AuditSpanExporter } from '../src/audit/store';

const env = process.env;
const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
const exporter = (env['OTEL_TRACES_EXPORTER'] ?? (endpoint ? 'otlp' : 'none')).trim();
const protocol = env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf';

const processors: SpanProcessor[] = [];
if (exporter === 'otlp') {
  if (protocol !== 'http/protobuf') console.error(`otel-preload: OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported here; using http/protobuf`);
  processors.push(new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 }));
} else if (exporter === 'console') {
  processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
} else if (exporter !== 'none') {
  console.error(`otel-preload: OTEL_TRACES_EXPORTER=${exporter} is not supported here (otlp, console, none)`);
}
const auditDb = env['REQAUTH_AUDIT_DB'];
// Written as each span ends, so the store is complete whenever it is read.
if (auditDb) processors.push(new SimpleSpanProcessor(AuditSpanExporter.open(auditDb)));

const serviceName = env['OTEL_SERVICE_NAME'] ?? path.basename(process.argv[1] ?? 'reqauth-example', '.js');
const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors: processors });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);
registerInstrumentations({ instrumentations: [new GrpcInstrumentation()] });

// Flush what is batched when the process runs out of work. No signal handlers here: they
// would keep a process alive that should end on SIGTERM. The audit store is written as each
// span ends; OTLP batches go out every 500 ms, so a killed process loses at most that.
process.once('beforeExit', () => void provider.shutdown());
