// The serve entry's own npm import, pinned in deps.ts (PROM_CLIENT_SPECIFIER):
// kept out of deps.ts so that only this entry's module graph holds it.
/**
 * prom-client, for the metrics.
 * @module
 */
export { Counter, Gauge, Histogram, Registry } from "npm:prom-client@15.1.3";
