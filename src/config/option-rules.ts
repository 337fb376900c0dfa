import type { Problems } from '../util/problems.js';
import { GUID_PATTERN as GUID } from '../util/ids.js';

/**
 * The rules of the options every entry point shares (the module's options, passport-azure-ad's names for them, a
 * per-request tenant), written once. Each takes the option's name as the caller's user spells it, so a problem names
 * what the user wrote (`clientID`, `clockSkew`), and reports to the caller's `Problems`.
 */

const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const MULTI_TENANT = new Set(['organizations', 'common']);

/** The tenant of personal Microsoft accounts (MSA): `organizations` never issues its tokens, `common` does. */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
/** The most seconds of clock difference accepted for `exp` and `nbf`. */
export const MAX_CLOCK_TOLERANCE_SEC = 300;

export interface TenantChoice {
  /** Lower case, trimmed. */
  tenantId: string;
  isMultiTenant: boolean;
}

/**
 * A tenant: its id (GUID) or a verified domain, or (unless `singleTenantOnly`) `organizations` or `common`.
 * `consumers` is refused: personal accounts have no organisational tokens to exchange.
 */
export function tenantRule(value: unknown, name: string, problems: Problems, { singleTenantOnly = false } = {}): TenantChoice {
  const tenantId = typeof value === 'string' ? value.trim().toLowerCase() : '';
  const isMultiTenant = MULTI_TENANT.has(tenantId);
  if (GUID.test(tenantId) || DOMAIN.test(tenantId) || (isMultiTenant && !singleTenantOnly)) return { tenantId, isMultiTenant };
  const kinds = singleTenantOnly ? 'a tenant id (GUID) or a tenant domain' : "a tenant id (GUID), a tenant domain, 'organizations' or 'common'";
  const consumers = tenantId === 'consumers' ? " ('consumers' has no organisational tokens to exchange)" : '';
  problems.add(`${name} must be ${kinds}${consumers}`);
  return { tenantId, isMultiTenant };
}

/** An application (client) id, lower case: tokens carry it so. */
export function clientIdRule(value: unknown, name: string, problems: Problems): string {
  const clientId = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!GUID.test(clientId)) problems.add(`${name} must be the application (client) id, a GUID`);
  return clientId;
}

/** Accepted `aud` values: a non-empty list of non-empty strings, or `fallback` when absent. */
export function audiencesRule(value: unknown, name: string, fallback: string[], problems: Problems, what = 'a non-empty array of strings'): string[] {
  if (value === undefined) return fallback;
  if (Array.isArray(value) && value.length > 0 && value.every((audience) => typeof audience === 'string' && audience.length > 0)) return [...(value as string[])];
  problems.add(`${name} must be ${what}`);
  return fallback;
}

/** Tenant ids (GUIDs), lower case; `undefined` (and a problem) when one is not. */
export function tenantIdsRule(value: unknown, name: string, problems: Problems): Set<string> | undefined {
  if (Array.isArray(value) && value.length > 0 && value.every((tenant) => typeof tenant === 'string' && GUID.test(tenant))) {
    return new Set(value.map((tenant: string) => tenant.toLowerCase()));
  }
  problems.add(`${name} must be a non-empty array of tenant ids (GUIDs)`);
  return undefined;
}

/**
 * A multi-tenant API's accepted tenants must not include the consumers tenant: personal accounts are accepted by
 * `allowPersonalAccounts`, which also checks their issuer.
 */
export function consumersTenantRule(tenants: ReadonlySet<string> | 'any', name: string, problems: Problems): void {
  if (tenants !== 'any' && tenants.has(CONSUMERS_TENANT_ID)) {
    problems.add(`${name}: ${CONSUMERS_TENANT_ID} is the personal-account (consumers) tenant; accept personal accounts with tenantId 'common' and allowPersonalAccounts: true`);
  }
}

/** Allowed clock difference in whole seconds, 0 to 300. */
export function clockToleranceRule(value: unknown, name: string, fallback: number, problems: Problems): number {
  return problems.integerIn(value, name, { min: 0, max: MAX_CLOCK_TOLERANCE_SEC }, fallback);
}
