/**
 * `nestjs-entra-obo/testing`: a local Microsoft Entra ID for tests and development.
 *
 * ```ts
 * const entra = await startEntraEmulator();
 * const msal = new ConfidentialClientApplication({
 *   auth: { clientId, clientSecret, authority: entra.authority(), knownAuthorities: [entra.knownAuthority] },
 *   system: { networkClient: entra.networkClient },
 * });
 * ```
 */

/** Starts an emulator; see `EntraEmulatorOptions`. */
export { startEntraEmulator, EntraEmulator } from './emulator/entra-emulator.js';
export type { EntraEmulatorOptions, IssueAccessTokenOptions, IssueIdTokenOptions } from './emulator/entra-emulator.js';
/** A directory as data: `startEntraEmulator({ seed })`, `{ seedFile }` and the CLI's `--seed` / `--print-seed`. */
export type { EmulatorSeed, SeedTenant, SeedUser, SeedGuest, SeedApp, SeedCertificate, SeedPolicy, SeedConsentDenial } from './emulator/seed-file.js';
/** The seeded directory's fixed ids and shape. */
export { DEFAULT_DIRECTORY_IDS } from './emulator/default-directory.js';
export type { DefaultDirectory } from './emulator/default-directory.js';
/** The directory model and its mutators; Microsoft Graph's and the consumers tenant's fixed ids. */
export { EmulatorDirectory, MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE, CONSUMERS_TENANT_ID } from './emulator/directory.js';
export type {
  EmulatorTenant,
  EmulatorUser,
  EmulatorApp,
  SignInAudience,
  AddTenantInput,
  AddUserInput,
  AddAppInput,
  AppCertificateCredential,
  RegisteredCertificate,
  AppOptionalClaims,
  AccessTokenOptionalClaim,
  IdTokenOptionalClaim,
} from './emulator/directory.js';
/** Conditional Access and consent policies. */
export { EmulatorPolicies } from './emulator/policies.js';
export type { ConditionalAccessPolicy, ConditionalAccessGrant, ConsentDenial, PolicyTarget } from './emulator/policies.js';
/** The movable clock every token and expiry check reads. */
export { EmulatorClock } from './emulator/clock.js';
/** The `grant_type` of On-Behalf-Of and client-credentials token requests, to filter `tokenRequests()` and faults by. */
export { JWT_BEARER_GRANT, CLIENT_CREDENTIALS_GRANT } from './emulator/grant-types.js';
/** Fault injection. */
export { FaultQueue } from './emulator/faults.js';
export type { EmulatorFault, FaultMatch, FaultableEndpoint, QueuedFaultView } from './emulator/faults.js';
export type { RecordedRequest, RequestFilter } from './emulator/request-log.js';
/** The endpoints the emulator answers (one table: name, methods, paths, faultable). */
export type { EmulatorEndpoint } from './emulator/endpoints.js';
export type { ClientAuthenticationMethod } from './emulator/tokens.js';
export type { EmulatorTokenLifetimes, LifetimeRange } from './emulator/token-lifetimes.js';
export type { SignInOptions } from './emulator/scripted-sign-in.js';
/** A `fetch` that trusts only the given CA, for HTTPS. */
export { createPinnedFetch } from './pinned-fetch.js';
export type { PinnedFetch } from './pinned-fetch.js';
/** The contract every `OboTokenCache` must keep, to run against your own cache. */
export { oboTokenCacheContract, registerOboTokenCacheContract } from './cache-contract.js';
export type { CacheContractCase, CacheContractSubject } from './cache-contract.js';
