import { randomUUID } from 'node:crypto';
import type { EmulatorApp, EmulatorUser } from './directory.js';

/** What a Conditional Access policy demands: a second factor, MFA enrolment, or no access at all. */
export type ConditionalAccessGrant = 'mfa' | 'mfa-registration' | 'block';

export interface ConditionalAccessPolicy {
  readonly id: string;
  readonly grant: ConditionalAccessGrant;
  /** Client id of the resource (API) the policy protects. */
  readonly resource: string;
  /** Object ids the policy applies to; every user when absent. */
  readonly users?: readonly string[];
  /** The tenant the policy lives in; every tenant when absent. */
  readonly tenantId?: string;
}

export interface ConsentDenial {
  readonly id: string;
  readonly client: string;
  readonly resource: string;
  /** Only these scopes lack consent; every scope of the resource when absent. */
  readonly scopes?: readonly string[];
}

/**
 * A Conditional Access policy that targets an authentication context rather than an app: a sign-in that asks for the
 * context (an `acrs` claims request) must pass a second factor before the context is added to the tokens.
 */
export interface AuthenticationContextPolicy {
  readonly id: string;
  /** The authentication context id, `c1` to `c99`. */
  readonly context: string;
  readonly users?: readonly string[];
  readonly tenantId?: string;
}

export interface PolicyTarget {
  /** The policy's id (a GUID), fixed as a seed file gives it; a new one when absent. */
  id?: string;
  /** The protected API: its client id or App ID URI. */
  resource: string;
  /** Users (object ids or sign-in names) the policy applies to; everyone when absent. */
  users?: string[];
  tenantId?: string;
}

/** Resolves names used in a policy to directory ids; supplied by the emulator. */
export interface PolicyDirectoryLookup {
  app(clientIdOrUri: string): EmulatorApp;
  user(idOrUsername: string): EmulatorUser;
  tenant(idOrDomain: string): { id: string };
}

/**
 * The claims challenge Entra returns for Conditional Access: `{"access_token":{"capolids":...}}` when a second factor
 * is due (AADSTS50076), `polids` when the user must first enrol in MFA (AADSTS50079).
 */
export function claimsChallengeFor(policyIds: readonly string[], member: 'capolids' | 'polids' = 'capolids'): string {
  return JSON.stringify({ access_token: { [member]: { essential: true, values: policyIds } } });
}

/**
 * Conditional Access and consent, as they affect token issuance. The emulator checks them on every token request for
 * a user (sign-in, refresh, On-Behalf-Of), in Entra's order: block, then MFA, then consent.
 */
export class EmulatorPolicies {
  private conditionalAccess: ConditionalAccessPolicy[] = [];
  private consentDenials: ConsentDenial[] = [];
  private authenticationContexts: AuthenticationContextPolicy[] = [];

  constructor(private readonly directory: PolicyDirectoryLookup) {}

  get all(): {
    conditionalAccess: readonly ConditionalAccessPolicy[];
    consentDenials: readonly ConsentDenial[];
    authenticationContexts: readonly AuthenticationContextPolicy[];
  } {
    return { conditionalAccess: [...this.conditionalAccess], consentDenials: [...this.consentDenials], authenticationContexts: [...this.authenticationContexts] };
  }

  /** Users must have signed in with a second factor (`amr` contains `mfa`) to get tokens for `resource`. */
  requireMfa(target: PolicyTarget): ConditionalAccessPolicy {
    return this.addConditionalAccess('mfa', target);
  }

  /** Users must enrol in MFA first: token requests for `resource` fail with AADSTS50079. */
  requireMfaRegistration(target: PolicyTarget): ConditionalAccessPolicy {
    return this.addConditionalAccess('mfa-registration', target);
  }

  /** No token for `resource` at all (AADSTS53003): nothing the user can do satisfies it. */
  blockAccess(target: PolicyTarget): ConditionalAccessPolicy {
    return this.addConditionalAccess('block', target);
  }

  /**
   * Sign-ins that ask for authentication context `context` (`c1`...`c99`) must pass a second factor; the tokens then
   * carry it in `acrs`. Without such a policy Entra adds a requested context without a prompt.
   */
  requireAuthenticationContext(input: { context: string; id?: string; users?: string[]; tenantId?: string }): AuthenticationContextPolicy {
    const context = input.context.toLowerCase();
    if (!/^c([1-9]|[1-9][0-9])$/.test(context)) throw new Error(`An authentication context id is c1 to c99, not '${input.context}'`);
    const policy: AuthenticationContextPolicy = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      context,
      ...(input.users ? { users: input.users.map((user) => this.directory.user(user).id) } : {}),
      ...(input.tenantId ? { tenantId: this.directory.tenant(input.tenantId).id } : {}),
    };
    this.authenticationContexts.push(policy);
    return policy;
  }

  /** The authentication-context policies that apply to this user's sign-in asking for `contexts` in this tenant. */
  applicableToContexts(user: EmulatorUser, tenantId: string, contexts: readonly string[]): AuthenticationContextPolicy[] {
    return this.authenticationContexts.filter(
      (policy) => contexts.includes(policy.context) && (policy.tenantId === undefined || policy.tenantId === tenantId) && appliesTo(policy.users, user),
    );
  }

  /** `client` has no consent for `resource` (or for some of its scopes): On-Behalf-Of fails with AADSTS65001. */
  denyConsent(input: { id?: string; client: string; resource: string; scopes?: string[] }): ConsentDenial {
    const denial: ConsentDenial = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      client: this.directory.app(input.client).clientId,
      resource: this.directory.app(input.resource).clientId,
      ...(input.scopes ? { scopes: [...input.scopes] } : {}),
    };
    this.consentDenials.push(denial);
    return denial;
  }

  remove(id: string): void {
    this.conditionalAccess = this.conditionalAccess.filter((policy) => policy.id !== id);
    this.consentDenials = this.consentDenials.filter((denial) => denial.id !== id);
    this.authenticationContexts = this.authenticationContexts.filter((policy) => policy.id !== id);
  }

  clear(): void {
    this.conditionalAccess = [];
    this.consentDenials = [];
    this.authenticationContexts = [];
  }

  /** @internal Remembers the policies as they are now; the returned function brings them back (`EntraEmulator.reset()`). */
  checkpoint(): () => void {
    const conditionalAccess = [...this.conditionalAccess];
    const consentDenials = [...this.consentDenials];
    const authenticationContexts = [...this.authenticationContexts];
    return () => {
      this.conditionalAccess = [...conditionalAccess];
      this.consentDenials = [...consentDenials];
      this.authenticationContexts = [...authenticationContexts];
    };
  }

  /** The Conditional Access policies that apply to this user's request for this resource in this tenant. */
  applicable(user: EmulatorUser, resource: EmulatorApp, tenantId: string): ConditionalAccessPolicy[] {
    return this.conditionalAccess.filter(
      (policy) =>
        policy.resource === resource.clientId &&
        (policy.tenantId === undefined || policy.tenantId === tenantId) &&
        appliesTo(policy.users, user),
    );
  }

  /** Whether `client` lacks consent for any of `scopes` on `resource`. */
  isConsentDenied(client: EmulatorApp, resource: EmulatorApp, scopes: readonly string[]): boolean {
    return this.consentDenials.some(
      (denial) =>
        denial.client === client.clientId &&
        denial.resource === resource.clientId &&
        (denial.scopes === undefined || denial.scopes.some((scope) => scopes.some((requested) => requested.toLowerCase() === scope.toLowerCase()))),
    );
  }

  private addConditionalAccess(grant: ConditionalAccessGrant, target: PolicyTarget): ConditionalAccessPolicy {
    const policy: ConditionalAccessPolicy = {
      id: (target.id ?? randomUUID()).toLowerCase(),
      grant,
      resource: this.directory.app(target.resource).clientId,
      ...(target.users ? { users: target.users.map((user) => this.directory.user(user).id) } : {}),
      ...(target.tenantId ? { tenantId: this.directory.tenant(target.tenantId).id } : {}),
    };
    this.conditionalAccess.push(policy);
    return policy;
  }
}

/** Whether a policy scoped to `users` (everyone when absent) covers `user`, or the home account behind a guest. */
function appliesTo(users: readonly string[] | undefined, user: EmulatorUser): boolean {
  return users === undefined || users.includes(user.id) || (user.homeObjectId !== undefined && users.includes(user.homeObjectId));
}
