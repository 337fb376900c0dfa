import type { EmulatorClock } from './clock.js';
import type { EmulatorApp, EmulatorDirectory } from './directory.js';
import type { GrantStore } from './grant-store.js';
import type { EmulatorPolicies } from './policies.js';
import type { ClientAuthenticationMethod, TokenIssuer } from './tokens.js';

/** What the emulator's endpoints share: its directory, policies, clock, signing and grants. */
export interface EmulatorServices {
  readonly authorityHost: string;
  readonly directory: EmulatorDirectory;
  readonly policies: EmulatorPolicies;
  readonly clock: EmulatorClock;
  readonly issuer: TokenIssuer;
  readonly grants: GrantStore;
}

/** A token request whose client has been authenticated. */
export interface AuthenticatedTokenRequest {
  readonly params: URLSearchParams;
  /** The tenant named in the URL; undefined for `common` and `organizations`. */
  readonly tenantId: string | undefined;
  readonly client: EmulatorApp;
  readonly authenticatedBy: ClientAuthenticationMethod;
}

export type TokenResponseBody = Record<string, unknown>;

export type GrantHandler = (request: AuthenticatedTokenRequest, services: EmulatorServices) => Promise<TokenResponseBody>;
