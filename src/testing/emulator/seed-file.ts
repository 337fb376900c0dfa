// The directory as data: what `--seed FILE` and `startEntraEmulator({ seed: object })` start from, and what
// `--print-seed` writes. Every entity carries its fixed id, so configuration written against a seed file survives
// restarts. The file is checked as a whole first, every problem at once, each named by its path in the file.
import { readFile } from 'node:fs/promises';
import { MICROSOFT_GRAPH_APP_ID, isGuid, type AddAppInput, type EmulatorDirectory } from './directory.js';
import type { ConditionalAccessGrant, EmulatorPolicies } from './policies.js';
import { Problems } from '../../util/problems.js';

export interface SeedTenant {
  id: string;
  displayName: string;
  domain?: string;
}
export interface SeedUser {
  id: string;
  tenantId: string;
  username: string;
  displayName?: string;
}
export interface SeedGuest {
  id: string;
  /** The member account invited: its id or sign-in name. */
  member: string;
  tenantId: string;
}
export interface SeedCertificate {
  certificatePem: string;
  /** For the clients that sign with it; the emulator keeps only the certificate. */
  privateKeyPem?: string;
}
export type SeedApp = Omit<AddAppInput, 'clientId'> & { clientId: string; certificates?: SeedCertificate[] };
export interface SeedPolicy {
  id: string;
  grant: ConditionalAccessGrant;
  resource: string;
  users?: string[];
  tenantId?: string;
}
/** A Conditional Access policy on an authentication context (`requireAuthenticationContext`). */
export interface SeedAuthenticationContext {
  id: string;
  context: string;
  users?: string[];
  tenantId?: string;
}
export interface SeedConsentDenial {
  id: string;
  client: string;
  resource: string;
  scopes?: string[];
}

/** A directory as data (`--seed FILE`, `startEntraEmulator({ seed })`). */
export interface EmulatorSeed {
  tenants?: SeedTenant[];
  users?: SeedUser[];
  guests?: SeedGuest[];
  apps?: SeedApp[];
  policies?: SeedPolicy[];
  consentDenials?: SeedConsentDenial[];
  authenticationContexts?: SeedAuthenticationContext[];
}

type Shape = 'string' | 'guid' | 'boolean' | 'strings' | 'record-of-strings' | 'certificates' | 'version' | 'audience' | 'grant' | 'optional-claims' | 'context';

const FIELDS: Record<keyof Required<EmulatorSeed>, { required: string[]; fields: Record<string, Shape> }> = {
  tenants: { required: ['id', 'displayName'], fields: { id: 'guid', displayName: 'string', domain: 'string' } },
  users: { required: ['id', 'tenantId', 'username'], fields: { id: 'guid', tenantId: 'string', username: 'string', displayName: 'string' } },
  guests: { required: ['id', 'member', 'tenantId'], fields: { id: 'guid', member: 'string', tenantId: 'string' } },
  apps: {
    required: ['clientId', 'tenantId', 'displayName'],
    fields: {
      clientId: 'guid',
      tenantId: 'string',
      displayName: 'string',
      signInAudience: 'audience',
      identifierUris: 'strings',
      scopes: 'strings',
      appRoles: 'strings',
      redirectUris: 'strings',
      spaRedirectUris: 'strings',
      postLogoutRedirectUris: 'strings',
      isFallbackPublicClient: 'boolean',
      optionalClaims: 'optional-claims',
      accessTokenVersion: 'version',
      preAuthorizedClients: 'strings',
      apiPermissions: 'record-of-strings',
      appPermissions: 'record-of-strings',
      secrets: 'strings',
      certificates: 'certificates',
    },
  },
  policies: { required: ['id', 'grant', 'resource'], fields: { id: 'guid', grant: 'grant', resource: 'string', users: 'strings', tenantId: 'string' } },
  consentDenials: { required: ['id', 'client', 'resource'], fields: { id: 'guid', client: 'string', resource: 'string', scopes: 'strings' } },
  authenticationContexts: { required: ['id', 'context'], fields: { id: 'guid', context: 'context', users: 'strings', tenantId: 'string' } },
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((entry) => typeof entry === 'string');

function shapeProblem(shape: Shape, value: unknown): string | undefined {
  switch (shape) {
    case 'string':
      return typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string';
    case 'guid':
      return typeof value === 'string' && isGuid(value) ? undefined : `must be a GUID, got ${JSON.stringify(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'strings':
      return isStrings(value) ? undefined : 'must be an array of strings';
    case 'record-of-strings':
      return isObject(value) && Object.values(value).every(isStrings) ? undefined : 'must map client ids to arrays of strings';
    case 'certificates':
      return Array.isArray(value) && value.every((entry) => isObject(entry) && typeof entry.certificatePem === 'string') ? undefined : 'must be an array of { certificatePem, privateKeyPem? }';
    case 'version':
      return value === 1 || value === 2 ? undefined : 'must be 1 or 2';
    case 'audience':
      return value === 'AzureADMyOrg' || value === 'AzureADMultipleOrgs' ? undefined : "must be 'AzureADMyOrg' or 'AzureADMultipleOrgs'";
    case 'grant':
      return value === 'mfa' || value === 'mfa-registration' || value === 'block' ? undefined : "must be 'mfa', 'mfa-registration' or 'block'";
    case 'context':
      return typeof value === 'string' && /^c([1-9]|[1-9][0-9])$/i.test(value) ? undefined : `must be an authentication context id, c1 to c99, got ${JSON.stringify(value)}`;
    case 'optional-claims':
      return isObject(value) && Object.entries(value).every(([key, claims]) => (key === 'accessToken' || key === 'idToken') && isStrings(claims)) ? undefined : 'must be { accessToken?: string[], idToken?: string[] }';
  }
}

/** Every problem of a seed's shape (field types, required fields, unknown fields, duplicate ids), by path. */
export function seedShapeProblems(seed: unknown): string[] {
  if (!isObject(seed)) return ['seed must be an object with tenants, users, guests, apps, policies, consentDenials and authenticationContexts'];
  const problems: string[] = [];
  for (const key of Object.keys(seed)) if (!(key in FIELDS)) problems.push(`seed.${key}: unknown section (known: ${Object.keys(FIELDS).join(', ')})`);
  for (const [section, { required, fields }] of Object.entries(FIELDS)) {
    const entries = seed[section];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) {
      problems.push(`seed.${section}: must be an array`);
      continue;
    }
    const ids = new Map<string, number>();
    entries.forEach((entry: unknown, index) => {
      const path = `seed.${section}[${index}]`;
      if (!isObject(entry)) return problems.push(`${path}: must be an object`);
      for (const name of required) if (entry[name] === undefined) problems.push(`${path}.${name}: is required`);
      for (const [name, value] of Object.entries(entry)) {
        const shape = fields[name];
        if (!shape) problems.push(`${path}.${name}: unknown field (known: ${Object.keys(fields).join(', ')})`);
        else {
          const problem = shapeProblem(shape, value);
          if (problem) problems.push(`${path}.${name}: ${problem}`);
        }
      }
      const id = entry[section === 'apps' ? 'clientId' : 'id'];
      if (typeof id === 'string') {
        const first = ids.get(id.toLowerCase());
        if (first !== undefined) problems.push(`${path}: the id ${id} is already used by seed.${section}[${first}]`);
        else ids.set(id.toLowerCase(), index);
      }
      return undefined;
    });
  }
  return problems;
}

/** Runs `add` for each entry, collecting its failure (the directory's own checks) under the entry's path. */
function each<T>(section: string, entries: T[] | undefined, problems: Problems, add: (entry: T) => unknown): void {
  (entries ?? []).forEach((entry, index) => {
    try {
      add(entry);
    } catch (error) {
      problems.add(`seed.${section}[${index}]: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/**
 * Builds the directory and policies a seed describes. Throws a TypeError listing every problem: those of its shape,
 * then those the directory finds (an unknown tenant, a taken domain, a user named twice).
 */
export function applySeed(seed: unknown, directory: EmulatorDirectory, policies: EmulatorPolicies): void {
  const shape = new Problems('emulator seed');
  shape.addAll(seedShapeProblems(seed));
  shape.throwIfAny('type');
  const valid = seed as EmulatorSeed;
  const problems = new Problems('emulator seed');
  each('tenants', valid.tenants, problems, (tenant) => directory.addTenant(tenant));
  each('users', valid.users, problems, (user) => directory.addUser(user));
  each('guests', valid.guests, problems, (guest) => directory.addGuest(guest));
  each('apps', valid.apps, problems, ({ certificates, ...app }) => {
    directory.addApp(app);
    for (const certificate of certificates ?? []) directory.addCertificate(app.clientId, certificate.certificatePem);
  });
  each('policies', valid.policies, problems, ({ grant, ...target }) => {
    if (grant === 'mfa') policies.requireMfa(target);
    else if (grant === 'mfa-registration') policies.requireMfaRegistration(target);
    else policies.blockAccess(target);
  });
  each('consentDenials', valid.consentDenials, problems, (denial) => policies.denyConsent(denial));
  each('authenticationContexts', valid.authenticationContexts, problems, (policy) => policies.requireAuthenticationContext(policy));
  problems.throwIfAny('type');
}

/** Reads and parses a seed file; a missing file or bad JSON is an Error naming the file. */
export async function readSeedFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TypeError(`seed file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TypeError(`seed file ${path}: not JSON (${(error as Error).message})`, { cause: error });
  }
}

/**
 * The directory and policies as a seed: what `--print-seed` writes. Microsoft Graph is left out (every directory has
 * it); an app certificate carries its `privateKeyPem` where `privateKeys` (by `x5t`) has it (the default middle tier's).
 */
export function exportSeed(directory: EmulatorDirectory, policies: EmulatorPolicies, privateKeys: ReadonlyMap<string, string> = new Map()): EmulatorSeed {
  const members = directory.users.filter((user) => !user.homeObjectId);
  const guests = directory.users.filter((user) => user.homeObjectId);
  const { conditionalAccess, consentDenials, authenticationContexts } = policies.all;
  return {
    tenants: directory.tenants.map(({ id, displayName, domain }) => ({ id, displayName, domain })),
    users: members.map(({ id, tenantId, username, displayName }) => ({ id, tenantId, username, displayName })),
    guests: guests.map(({ id, homeObjectId, tenantId }) => ({ id, member: homeObjectId!, tenantId })),
    apps: directory.apps
      .filter((app) => app.clientId !== MICROSOFT_GRAPH_APP_ID)
      .map(({ certificates, optionalClaims, ...app }) => ({
        ...structuredClone(app),
        optionalClaims: { accessToken: [...(optionalClaims.accessToken ?? [])], idToken: [...(optionalClaims.idToken ?? [])] },
        certificates: certificates
          .filter((certificate) => certificate.certificatePem !== undefined)
          .map((certificate) => ({ certificatePem: certificate.certificatePem!, ...(privateKeys.has(certificate.x5t) ? { privateKeyPem: privateKeys.get(certificate.x5t)! } : {}) })),
      })),
    policies: conditionalAccess.map(({ users, ...policy }) => ({ ...policy, ...(users ? { users: [...users] } : {}) })),
    consentDenials: consentDenials.map(({ scopes, ...denial }) => ({ ...denial, ...(scopes ? { scopes: [...scopes] } : {}) })),
    // Only when there are any, so seeds written before authentication contexts existed export unchanged.
    ...(authenticationContexts.length > 0
      ? { authenticationContexts: authenticationContexts.map(({ users, ...policy }) => ({ ...policy, ...(users ? { users: [...users] } : {}) })) }
      : {}),
  };
}
