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

  constructor(private readonly directory: PolicyDirectoryLookup) {}

  get all(): { conditionalAccess: readonly ConditionalAccessPolicy[]; consentDenials: readonly ConsentDenial[] } {
    return { conditionalAccess: [...this.conditionalAccess], consentDenials: [...this.consentDenials] };
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
  }

  clear(): void {
    this.conditionalAccess = [];
    this.consentDenials = [];
  }

  /** @internal Remembers the policies as they are now; the returned function brings them back (`EntraEmulator.reset()`). */
  checkpoint(): () => void {
    const conditionalAccess = [...this.conditionalAccess];
    const consentDenials = [...this.consentDenials];
    return () => {
      this.conditionalAccess = [...conditionalAccess];
      this.consentDenials = [...consentDenials];
    };
  }

  /** The Conditional Access policies that apply to this user's request for this resource in this tenant. */
  applicable(user: EmulatorUser, resource: EmulatorApp, tenantId: string): ConditionalAccessPolicy[] {
    return this.conditionalAccess.filter(
      (policy) =>
        policy.resource === resource.clientId &&
        (policy.tenantId === undefined || policy.tenantId === tenantId) &&
        (policy.users === undefined || policy.users.includes(user.id) || (user.homeObjectId !== undefined && policy.users.includes(user.homeObjectId))),
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
