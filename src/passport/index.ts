/**
 * `nestjs-entra-obo/passport`: for `@nestjs/passport` users, and a drop-in for passport-azure-ad's `BearerStrategy`.
 * Needs the optional peers `passport` and `@nestjs/passport`.
 */

/** passport-azure-ad-compatible strategy (`oauth-bearer`): change the import, keep the options. */
export { BearerStrategy } from './bearer-strategy.js';
export type { BearerVerifyCallback } from './bearer-strategy.js';
export type { BearerStrategyOptions } from './bearer-strategy-options.js';
export type { BearerAuthenticateOptions } from './tenant-verifiers.js';
/** The `@nestjs/passport` strategy named `entra-bearer`, and the guard that answers its failures as RFC 6750 errors. */
export { EntraBearerStrategy, EntraAuthGuard } from './nest-passport.js';
