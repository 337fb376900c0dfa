/**
 * `nestjs-entra-obo/terminus`: a `@nestjs/terminus` health indicator for the module (signing keys, discovery, the
 * token cache). `@nestjs/terminus` is an optional peer, loaded only by this entry point.
 */
export { EntraHealthIndicator } from './entra-health.indicator.js';
export type { EntraHealthDetails, EntraHealthStatus } from './entra-health-report.js';
