// `reqauth/audit-store`: the embedded, queryable audit store and its OpenTelemetry exporter.
// Needs the optional peer dependency `better-sqlite3`; the core library never imports this.
export * from './store';
export * from './exporter';
