import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createSelfSignedCertificate, thumbprintsOf, type GeneratedCertificate } from './x509-certificates.js';
import type { KeyObject } from 'node:crypto';

export interface EmulatorTenant {
  readonly id: string;
  readonly displayName: string;
  /** The initial domain, e.g. `contoso.onmicrosoft.com`; a tenant can be addressed by it in URLs. */
  readonly domain: string;
}

export interface EmulatorUser {
  /** The object id (`oid`) in the tenant the user is in. */
  readonly id: string;
  readonly tenantId: string;
  /** The sign-in name (`preferred_username` / `upn`). */
  readonly username: string;
  readonly displayName: string;
  /** Set for a guest (B2B) user: the tenant the user's account lives in. */
  readonly homeTenantId?: string;
  /** Set for a guest: the object id of the account in its home tenant. */
  readonly homeObjectId?: string;
}

export type SignInAudience = 'AzureADMyOrg' | 'AzureADMultipleOrgs';

/** A credential certificate registered on an app (its public part; the emulator keeps no private key for it). */
export interface RegisteredCertificate {
  readonly x5t: string;
  readonly x5tS256: string;
  readonly publicKey: KeyObject;
  /** The certificate itself, so that a seed file written from the directory carries it. */
  readonly certificatePem?: string;
}

/** What `addCertificate` hands back when it generated the certificate: everything a client needs to sign with it. */
export interface AppCertificateCredential {
  certificatePem: string;
  privateKeyPem: string;
  thumbprintSha1Hex: string;
  thumbprintSha256Hex: string;
}

export interface EmulatorApp {
  readonly clientId: string;
  /** The tenant the app is registered in. */
  readonly tenantId: string;
  readonly displayName: string;
  readonly signInAudience: SignInAudience;
  /** App ID URIs (`api://{clientId}` by default for an app that exposes scopes or roles). */
  readonly identifierUris: string[];
  /** Delegated scopes the app exposes as an API (e.g. `access_as_user`). */
  readonly scopes: string[];
  /** App roles the app exposes (granted to daemons as application permissions). */
  readonly appRoles: string[];
  /**
   * Redirect URIs of the web (or, with `isFallbackPublicClient`, mobile and desktop) platform. A loopback
   * `http://localhost` or `http://127.0.0.1` URI matches any port. PKCE is optional here.
   */
  readonly redirectUris: string[];
  /** Redirect URIs of the single-page-application platform: PKCE is required, and the code is redeemed with no credential. */
  readonly spaRedirectUris: string[];
  /** Where logout may send the browser back to (`post_logout_redirect_uri`); loopback URIs match any port. */
  readonly postLogoutRedirectUris: string[];
  /** "Allow public client flows": the app may redeem codes and refresh tokens without a credential. */
  readonly isFallbackPublicClient: boolean;
  /** Optional claims this app asks for in tokens issued to it (`optionalClaims` of its manifest). */
  readonly optionalClaims: AppOptionalClaims;
  /** `accessTokenAcceptedVersion`: the version of access tokens issued for this app as a resource. */
  readonly accessTokenVersion: 1 | 2;
  /** Client ids allowed to request this API's scopes without a consent prompt. */
  readonly preAuthorizedClients: string[];
  /** Delegated permissions this app has been granted on other APIs: resource client id → scopes. */
  readonly apiPermissions: Record<string, string[]>;
  /** Application permissions (app roles) granted to this app on other APIs: resource client id → roles. */
  readonly appPermissions: Record<string, string[]>;
  readonly secrets: string[];
  readonly certificates: RegisteredCertificate[];
}

/** Optional claims the emulator knows; absent from tokens unless the app that receives the token asks for them. */
export type AccessTokenOptionalClaim = 'idtyp' | 'xms_cc' | 'acct';
export type IdTokenOptionalClaim = 'acct';

export interface AppOptionalClaims {
  /** In access tokens for this app (as a resource): `idtyp` (`app` / `user`), `xms_cc` (client capabilities), `acct`. */
  readonly accessToken: readonly AccessTokenOptionalClaim[];
  /** In ID tokens issued to this app (as a client): `acct`. */
  readonly idToken: readonly IdTokenOptionalClaim[];
}

export interface AddTenantInput {
  id?: string;
  displayName: string;
  domain?: string;
}

export interface AddUserInput {
  tenantId: string;
  /** The user part (`alice`) or a full sign-in name (`alice@contoso.onmicrosoft.com`). */
  username: string;
  displayName?: string;
  id?: string;
}

export interface AddAppInput {
  displayName: string;
  tenantId: string;
  clientId?: string;
  signInAudience?: SignInAudience;
  identifierUris?: string[];
  scopes?: string[];
  appRoles?: string[];
  redirectUris?: string[];
  /** Redirect URIs of the SPA platform (PKCE required, no credential at redemption). */
  spaRedirectUris?: string[];
  /** Registered post-logout redirect URIs; logout redirects nowhere else. */
  postLogoutRedirectUris?: string[];
  /** Allow public client flows (mobile and desktop): codes and refresh tokens are redeemed without a credential. */
  isFallbackPublicClient?: boolean;
  /** Optional claims in the tokens this app receives; none by default, as in Entra. */
  optionalClaims?: { accessToken?: AccessTokenOptionalClaim[]; idToken?: IdTokenOptionalClaim[] };
  accessTokenVersion?: 1 | 2;
  preAuthorizedClients?: string[];
  apiPermissions?: Record<string, string[]>;
  appPermissions?: Record<string, string[]>;
  secrets?: string[];
}

const ACCESS_TOKEN_OPTIONAL_CLAIMS: readonly string[] = ['idtyp', 'xms_cc', 'acct'];
const ID_TOKEN_OPTIONAL_CLAIMS: readonly string[] = ['acct'];

/** Microsoft's own tenant, home of the first-party apps such as Microsoft Graph. */
export const MICROSOFT_SERVICES_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
/** The tenant of personal Microsoft accounts; `/consumers` resolves to it. No work or school app is available there. */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
/** Microsoft Graph's app id and resource, the same in every tenant. */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const MICROSOFT_GRAPH_RESOURCE = 'https://graph.microsoft.com';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** A GUID derived from its inputs, so the same app in the same tenant always has the same service principal id. */
export function deterministicGuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A random client secret shaped like Entra's (40 characters, `xxx8Q~...`). */
export function generateClientSecret(): string {
  const body = randomBytes(30).toString('base64url').replace(/[-_]/g, '.').slice(0, 37);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}

type AppLists = Pick<
  EmulatorApp,
  | 'identifierUris'
  | 'scopes'
  | 'appRoles'
  | 'redirectUris'
  | 'spaRedirectUris'
  | 'postLogoutRedirectUris'
  | 'optionalClaims'
  | 'preAuthorizedClients'
  | 'apiPermissions'
  | 'appPermissions'
  | 'secrets'
  | 'certificates'
>;

/** The members of an app a test can change in place (arrays and maps), copied. */
function copyAppLists(app: AppLists): AppLists {
  const copyPermissions = (permissions: Record<string, string[]>) => Object.fromEntries(Object.entries(permissions).map(([resource, granted]) => [resource, [...granted]]));
  return {
    identifierUris: [...app.identifierUris],
    scopes: [...app.scopes],
    appRoles: [...app.appRoles],
    redirectUris: [...app.redirectUris],
    spaRedirectUris: [...app.spaRedirectUris],
    postLogoutRedirectUris: [...app.postLogoutRedirectUris],
    optionalClaims: { accessToken: [...app.optionalClaims.accessToken], idToken: [...app.optionalClaims.idToken] },
    preAuthorizedClients: [...app.preAuthorizedClients],
    apiPermissions: copyPermissions(app.apiPermissions),
    appPermissions: copyPermissions(app.appPermissions),
    secrets: [...app.secrets],
    certificates: [...app.certificates],
  };
}

/**
 * The emulator's directory: tenants, users (members and guests) and app registrations. Tests change it freely
 * while the emulator runs; every request reads the current state.
 */
export class EmulatorDirectory {
  private readonly tenantsById = new Map<string, EmulatorTenant>();
  private readonly usersById = new Map<string, EmulatorUser>();
  private readonly appsByClientId = new Map<string, EmulatorApp>();

  /** @param makeCertificate how `generateCertificate` makes one: generated by default, leased in an emulator (key-pool.ts) */
  constructor(private readonly makeCertificate: (commonName: string) => Promise<GeneratedCertificate> = createSelfSignedCertificate) {
    // Microsoft Graph is a service principal in every tenant; it is the most common On-Behalf-Of downstream API.
    // https://learn.microsoft.com/graph/permissions-reference lists its permissions; its tokens are v1.
    this.appsByClientId.set(MICROSOFT_GRAPH_APP_ID, {
      clientId: MICROSOFT_GRAPH_APP_ID,
      tenantId: MICROSOFT_SERVICES_TENANT_ID,
      displayName: 'Microsoft Graph',
      signInAudience: 'AzureADMultipleOrgs',
      identifierUris: [MICROSOFT_GRAPH_RESOURCE],
      scopes: ['User.Read', 'User.ReadBasic.All', 'Mail.Read', 'offline_access', 'openid', 'profile', 'email'],
      appRoles: ['User.Read.All'],
      redirectUris: [],
      spaRedirectUris: [],
      postLogoutRedirectUris: [],
      isFallbackPublicClient: false,
      optionalClaims: { accessToken: [], idToken: [] },
      accessTokenVersion: 1,
      preAuthorizedClients: [],
      apiPermissions: {},
      appPermissions: {},
      secrets: [],
      certificates: [],
    });
  }

  get tenants(): EmulatorTenant[] {
    return [...this.tenantsById.values()];
  }

  get users(): EmulatorUser[] {
    return [...this.usersById.values()];
  }

  get apps(): EmulatorApp[] {
    return [...this.appsByClientId.values()];
  }

  addTenant(input: AddTenantInput): EmulatorTenant {
    const id = (input.id ?? randomUUID()).toLowerCase();
    if (!isGuid(id)) throw new TypeError(`addTenant: id must be a GUID, got '${id}'`);
    if (this.tenantsById.has(id)) throw new Error(`addTenant: a tenant with id ${id} already exists`);
    const label = input.displayName.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (!input.domain && !label) throw new TypeError('addTenant: give a domain, or a display name with letters or digits');
    const domain = (input.domain ?? `${label}.onmicrosoft.com`).toLowerCase();
    if (this.findTenant(domain)) throw new Error(`addTenant: the domain ${domain} is taken`);
    const tenant: EmulatorTenant = { id, displayName: input.displayName, domain };
    this.tenantsById.set(id, tenant);
    return tenant;
  }

  /** A tenant by GUID or by domain name, or undefined. */
  findTenant(idOrDomain: string): EmulatorTenant | undefined {
    const key = idOrDomain.toLowerCase();
    return this.tenantsById.get(key) ?? this.tenants.find((tenant) => tenant.domain === key);
  }

  tenant(idOrDomain: string): EmulatorTenant {
    const tenant = this.findTenant(idOrDomain);
    if (!tenant) throw new Error(`No tenant '${idOrDomain}' in the emulator's directory`);
    return tenant;
  }

  addUser(input: AddUserInput): EmulatorUser {
    const tenant = this.tenant(input.tenantId);
    const username = input.username.includes('@') ? input.username.toLowerCase() : `${input.username.toLowerCase()}@${tenant.domain}`;
    if (this.findUser(username)) throw new Error(`addUser: the sign-in name ${username} is taken`);
    const user: EmulatorUser = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      tenantId: tenant.id,
      username,
      displayName: input.displayName ?? username.split('@')[0]!,
    };
    if (this.usersById.has(user.id)) throw new Error(`addUser: a user with id ${user.id} already exists`);
    this.usersById.set(user.id, user);
    return user;
  }

  /**
   * Invites `member` (a user of another tenant) into `tenantId` as a B2B guest: a new object in the resource tenant,
   * with its own `oid`, whose tokens there carry `tid` = the resource tenant and `idp` = the home tenant's issuer.
   */
  addGuest(input: { member: EmulatorUser | string; tenantId: string; id?: string }): EmulatorUser {
    const member = typeof input.member === 'string' ? this.user(input.member) : input.member;
    if (member.homeTenantId) throw new Error('addGuest: invite the member account, not another guest object');
    const tenant = this.tenant(input.tenantId);
    if (tenant.id === member.tenantId) throw new Error(`addGuest: ${member.username} is already a member of ${tenant.domain}`);
    if (this.accountIn(member, tenant.id)) throw new Error(`addGuest: ${member.username} is already a guest in ${tenant.domain}`);
    const guestName = `${member.username.replace('@', '_')}#EXT#@${tenant.domain}`;
    const guest: EmulatorUser = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      tenantId: tenant.id,
      username: guestName,
      displayName: member.displayName,
      homeTenantId: member.tenantId,
      homeObjectId: member.id,
    };
    if (this.usersById.has(guest.id)) throw new Error(`addGuest: a user with id ${guest.id} already exists`);
    this.usersById.set(guest.id, guest);
    return guest;
  }

  /** A user by object id or sign-in name, or undefined. */
  findUser(idOrUsername: string): EmulatorUser | undefined {
    const key = idOrUsername.toLowerCase();
    return this.usersById.get(key) ?? this.users.find((user) => user.username.toLowerCase() === key);
  }

  user(idOrUsername: string): EmulatorUser {
    const user = this.findUser(idOrUsername);
    if (!user) throw new Error(`No user '${idOrUsername}' in the emulator's directory`);
    return user;
  }

  /** The accounts that can sign in at a tenant: its members and guests. */
  usersOf(tenantId: string): EmulatorUser[] {
    return this.users.filter((user) => user.tenantId === tenantId);
  }

  /**
   * The account a member of `homeTenantId` uses in `tenantId`: itself at home, its guest object elsewhere. This is
   * how a guest's sign-in at the resource tenant's authority finds the right `oid`.
   */
  accountIn(user: EmulatorUser, tenantId: string): EmulatorUser | undefined {
    if (user.tenantId === tenantId) return user;
    if (user.homeTenantId === tenantId && user.homeObjectId) return this.usersById.get(user.homeObjectId);
    const memberId = user.homeObjectId ?? user.id;
    return this.users.find((candidate) => candidate.tenantId === tenantId && candidate.homeObjectId === memberId);
  }

  removeUser(idOrUsername: string): void {
    this.usersById.delete(this.user(idOrUsername).id);
  }

  addApp(input: AddAppInput): EmulatorApp {
    const tenant = this.tenant(input.tenantId);
    const clientId = (input.clientId ?? randomUUID()).toLowerCase();
    if (!isGuid(clientId)) throw new TypeError(`addApp: clientId must be a GUID, got '${clientId}'`);
    if (this.appsByClientId.has(clientId)) throw new Error(`addApp: an app with client id ${clientId} already exists`);
    const exposesApi = (input.scopes?.length ?? 0) > 0 || (input.appRoles?.length ?? 0) > 0;
    const app: EmulatorApp = {
      clientId,
      tenantId: tenant.id,
      displayName: input.displayName,
      signInAudience: input.signInAudience ?? 'AzureADMyOrg',
      identifierUris: input.identifierUris ?? (exposesApi ? [`api://${clientId}`] : []),
      scopes: [...(input.scopes ?? [])],
      appRoles: [...(input.appRoles ?? [])],
      redirectUris: [...(input.redirectUris ?? [])],
      spaRedirectUris: [...(input.spaRedirectUris ?? [])],
      postLogoutRedirectUris: [...(input.postLogoutRedirectUris ?? [])],
      isFallbackPublicClient: input.isFallbackPublicClient ?? false,
      optionalClaims: { accessToken: [...(input.optionalClaims?.accessToken ?? [])], idToken: [...(input.optionalClaims?.idToken ?? [])] },
      accessTokenVersion: input.accessTokenVersion ?? 2,
      preAuthorizedClients: [...(input.preAuthorizedClients ?? [])],
      apiPermissions: structuredClone(input.apiPermissions ?? {}),
      appPermissions: structuredClone(input.appPermissions ?? {}),
      secrets: [...(input.secrets ?? [])],
      certificates: [],
    };
    for (const uri of [...app.redirectUris, ...app.spaRedirectUris, ...app.postLogoutRedirectUris]) {
      if (!URL.canParse(uri)) throw new TypeError(`addApp: redirect URI '${uri}' is not a URL`);
    }
    for (const claim of app.optionalClaims.accessToken) {
      if (!ACCESS_TOKEN_OPTIONAL_CLAIMS.includes(claim)) throw new TypeError(`addApp: optionalClaims.accessToken: '${claim}' is not one of ${ACCESS_TOKEN_OPTIONAL_CLAIMS.join(', ')}`);
    }
    for (const claim of app.optionalClaims.idToken) {
      if (!ID_TOKEN_OPTIONAL_CLAIMS.includes(claim)) throw new TypeError(`addApp: optionalClaims.idToken: '${claim}' is not one of ${ID_TOKEN_OPTIONAL_CLAIMS.join(', ')}`);
    }
    for (const uri of app.identifierUris) {
      if (this.findApp(uri)) throw new Error(`addApp: the identifier URI ${uri} is already used by another app`);
    }
    this.appsByClientId.set(clientId, app);
    return app;
  }

  /** An app by client id or App ID URI, or undefined. */
  findApp(clientIdOrUri: string): EmulatorApp | undefined {
    const key = clientIdOrUri.toLowerCase();
    return this.appsByClientId.get(key) ?? this.apps.find((app) => app.identifierUris.some((uri) => uri.toLowerCase() === key));
  }

  app(clientIdOrUri: string): EmulatorApp {
    const app = this.findApp(clientIdOrUri);
    if (!app) throw new Error(`No app '${clientIdOrUri}' in the emulator's directory`);
    return app;
  }

  /**
   * Whether `app` can be used in `tenantId` (its home tenant, or any organisation when multi-tenant). The consumers
   * tenant takes no work or school app: `AzureADMultipleOrgs` means organisations only.
   */
  isAppAvailableIn(app: EmulatorApp, tenantId: string): boolean {
    return app.tenantId === tenantId || (app.signInAudience === 'AzureADMultipleOrgs' && tenantId !== CONSUMERS_TENANT_ID);
  }

  /** Microsoft Graph, the first-party API present in every tenant. */
  get microsoftGraph(): EmulatorApp {
    return this.appsByClientId.get(MICROSOFT_GRAPH_APP_ID)!;
  }

  /** Adds a client secret (a generated one unless given) and returns it. */
  addSecret(clientId: string, secret: string = generateClientSecret()): string {
    this.app(clientId).secrets.push(secret);
    return secret;
  }

  removeSecret(clientId: string, secret: string): void {
    const secrets = this.app(clientId).secrets;
    const index = secrets.indexOf(secret);
    if (index >= 0) secrets.splice(index, 1);
  }

  /** Registers a certificate the test brings (PEM) as a credential of the app. */
  addCertificate(clientId: string, certificatePem: string): RegisteredCertificate {
    const registered = { ...thumbprintsOf(certificatePem), certificatePem };
    this.app(clientId).certificates.push(registered);
    return registered;
  }

  /** Generates a self-signed certificate, registers it, and returns its private key so a client can sign with it. */
  async generateCertificate(clientId: string): Promise<AppCertificateCredential> {
    const app = this.app(clientId);
    const generated = await this.makeCertificate(app.displayName.replace(/[^A-Za-z0-9 .-]/g, '') || 'app');
    app.certificates.push({ x5t: generated.x5t, x5tS256: generated.x5tS256, publicKey: generated.publicKey, certificatePem: generated.certificatePem });
    return {
      certificatePem: generated.certificatePem,
      privateKeyPem: generated.privateKeyPem,
      thumbprintSha1Hex: generated.thumbprintSha1Hex,
      thumbprintSha256Hex: generated.thumbprintSha256Hex,
    };
  }

  /**
   * @internal Remembers the tenants, users and apps as they are now; the returned function brings them back (for
   * `EntraEmulator.reset()`). The same app objects come back, so references a test holds (`emulator.defaults`) stay
   * valid, with their secrets, certificates and permissions as they were.
   */
  checkpoint(): () => void {
    const tenants = [...this.tenantsById];
    const users = [...this.usersById];
    const apps = [...this.appsByClientId].map(([clientId, app]) => ({ clientId, app, lists: copyAppLists(app) }));
    return () => {
      this.tenantsById.clear();
      for (const [id, tenant] of tenants) this.tenantsById.set(id, tenant);
      this.usersById.clear();
      for (const [id, user] of users) this.usersById.set(id, user);
      this.appsByClientId.clear();
      for (const { clientId, app, lists } of apps) {
        // Copied again on each restore, so that a reset after a reset still finds the checkpoint untouched.
        Object.assign(app, copyAppLists(lists));
        this.appsByClientId.set(clientId, app);
      }
    };
  }

  /** Grants delegated scopes of `resource` to `client` (as an admin consent would). */
  grantApiPermission(clientId: string, resource: string, scopes: string[]): void {
    const resourceApp = this.app(resource);
    const granted = (this.app(clientId).apiPermissions[resourceApp.clientId] ??= []);
    for (const scope of scopes) if (!granted.includes(scope)) granted.push(scope);
  }

  /** Grants app roles of `resource` to `client` as application permissions. */
  grantAppPermission(clientId: string, resource: string, roles: string[]): void {
    const resourceApp = this.app(resource);
    const granted = (this.app(clientId).appPermissions[resourceApp.clientId] ??= []);
    for (const role of roles) if (!granted.includes(role)) granted.push(role);
  }

  /** The service principal's object id of `app` in `tenantId`: the `oid` of its app-only tokens. */
  servicePrincipalId(app: EmulatorApp, tenantId: string): string {
    return deterministicGuid('service-principal', app.clientId, tenantId);
  }
}
