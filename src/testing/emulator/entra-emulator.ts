import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP, isIPv6, type Socket } from 'node:net';
import { createMsalNetworkClient, type MsalNetworkClient } from '../../msal/msal-network-client.js';
import { createPinnedFetch, type PinnedFetch } from '../pinned-fetch.js';
import { AuthorizeEndpoint } from './authorize-endpoint.js';
import { EmulatorClock } from './clock.js';
import { seedDefaultDirectory, type DefaultDirectory } from './default-directory.js';
import { EmulatorDirectory, type EmulatorApp, type EmulatorUser } from './directory.js';
import { FaultQueue } from './faults.js';
import { GrantStore } from './grant-store.js';
import { EmulatorPolicies } from './policies.js';
import { RequestLog, type RecordedRequest, type RequestFilter } from './request-log.js';
import { GRAPH_PATH_SEGMENT, GraphEndpoint } from './graph-endpoint.js';
import { EmulatorRequestHandler } from './request-handler.js';
import type { EmulatorServices } from './services.js';
import { SigningKeyRing } from './signing-keys.js';
import { applySeed, readSeedFile, type EmulatorSeed } from './seed-file.js';
import { resolveEmulatorOptions, type EntraEmulatorOptions, type ResolvedEmulatorOptions } from './emulator-options.js';
import type { EmulatorTokenLifetimes } from './token-lifetimes.js';
import { seededRandom, TokenIssuer, type ClientAuthenticationMethod, type TokenOverrides } from './tokens.js';

export type { EntraEmulatorOptions };
import { keepSigningKeys, keptSigningKeys, keyMaterial, lockDataDir, type TlsNames } from './key-material.js';
import { CertificateLeases, certificatePoolFor, defaultKeyCacheDir } from './key-pool.js';
import { createSelfSignedCertificate } from './x509-certificates.js';
import { completeSignIn, type SignInOptions } from './scripted-sign-in.js';

export interface IssueAccessTokenOptions {
  /** The signed-in user; leave out for an app-only token (then give `roles`). */
  user?: EmulatorUser | string;
  /** The app the token was issued to (`azp`/`appid`). */
  client: EmulatorApp | string;
  /** The API the token is for (`aud`). */
  resource: EmulatorApp | string;
  /** Delegated scopes (`scp`); defaults to every scope the resource exposes. */
  scopes?: string[];
  /** App roles (`roles`) of an app-only token. */
  roles?: string[];
  /** Tenant of an app-only token; defaults to the client's home tenant. */
  tenantId?: string;
  /**
   * How the user signed in; `['pwd', 'mfa']` for a user who passed a second factor. Default `['pwd']`. Kept with the
   * sign-in (found again by the token's `uti`, as Entra keeps it with the session) so On-Behalf-Of sees it; it appears
   * in the token as `amr` only when the token is v1, as in Entra.
   */
  amr?: string[];
  /** Token version; defaults to the resource's `accessTokenVersion`. */
  version?: 1 | 2;
  lifetimeSec?: number;
  authenticatedBy?: ClientAuthenticationMethod;
  clientCapabilities?: string[];
  /** Claims to set (or, with `undefined`, remove) before signing: for negative tests. */
  claims?: TokenOverrides['claims'];
  /** Header parameters to set or remove before signing. */
  header?: TokenOverrides['header'];
}

export interface IssueIdTokenOptions {
  user: EmulatorUser | string;
  client: EmulatorApp | string;
  nonce?: string;
  lifetimeSec?: number;
  claims?: TokenOverrides['claims'];
  header?: TokenOverrides['header'];
}

/** The names the TLS certificate carries: loopback always, the `hostnames`, and `host` when it is one address. */
function tlsNames(host: string, hostnames: readonly string[]): TlsNames {
  const ip = new Set(['127.0.0.1', '::1']);
  const dns = new Set(['localhost', ...hostnames.map((name) => name.toLowerCase())]);
  const wildcard = host === '0.0.0.0' || host === '::';
  if (!wildcard) (isIP(host) ? ip : dns).add(host.toLowerCase());
  return { dns: [...dns], ip: [...ip] };
}

/** The host of the authority URL: the first `hostnames` entry, else `host` (a wildcard address means this machine). */
function authorityHostName(host: string, hostnames: readonly string[]): string {
  const name = hostnames[0] ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  return isIPv6(name) ? `[${name}]` : name.toLowerCase();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A local Microsoft Entra ID: real HTTPS, Entra's endpoints and wire format, a directory you control, Conditional
 * Access and consent policies, fault injection and a movable clock. Start one with `startEntraEmulator()`.
 */
export class EntraEmulator {
  readonly directory: EmulatorDirectory;
  readonly policies: EmulatorPolicies;
  readonly clock = new EmulatorClock();
  /** Failures to answer with, for the next matching requests. */
  readonly faults = new FaultQueue();
  /** `https://{host}:{port}`: the authority host to configure instead of `https://login.microsoftonline.com`. */
  readonly authorityHost: string;
  /** PEM of the CA that issued the emulator's TLS certificate. Trust it per client, never process-wide. */
  readonly caCertificatePem: string;
  /** A `fetch` that trusts the emulator's CA (and nothing else): for jose, openid-client, and the library's `fetch` option. */
  readonly fetch: typeof fetch;
  /** An MSAL `system.networkClient` over that `fetch`. */
  readonly networkClient: MsalNetworkClient;
  /**
   * `https://{host}:{port}/graph`: a minimal Microsoft Graph (`GET /v1.0/me`, OIDC userinfo) that accepts the Graph
   * tokens this emulator issues. Use it where code calls `https://graph.microsoft.com`.
   */
  readonly graphBaseUrl: string;

  private services: EmulatorServices;
  private handler: EmulatorRequestHandler;
  private readonly log = new RequestLog();
  private readonly sockets = new Set<Socket>();
  private readonly pinnedFetch: PinnedFetch;
  private seeded: DefaultDirectory | undefined;
  private restoreSeed: Array<() => void> = [];
  private closed = false;
  private releaseDataDir: () => Promise<void> = async () => undefined;
  /** How long `startEntraEmulator()` took, in ms: key material, listening and seeding. */
  startDurationMs = 0;

  private constructor(
    private readonly server: Server,
    private readonly keys: SigningKeyRing,
    /** The certificates (signing keys, app credentials) this emulator holds while it lives: see key-pool.ts. */
    private readonly leases: CertificateLeases,
    authorityHost: string,
    caCertificatePem: string,
    private readonly lifetimes: EmulatorTokenLifetimes,
    private readonly allowLoginHintSignIn: boolean,
    private readonly randomSeed: number | undefined,
  ) {
    this.directory = new EmulatorDirectory(leases.certificate);
    this.policies = new EmulatorPolicies(this.directory);
    this.authorityHost = authorityHost;
    this.graphBaseUrl = `${authorityHost}/${GRAPH_PATH_SEGMENT}`;
    this.caCertificatePem = caCertificatePem;
    this.pinnedFetch = createPinnedFetch(caCertificatePem);
    this.fetch = this.pinnedFetch.fetch;
    this.networkClient = createMsalNetworkClient(this.fetch);
    ({ services: this.services, handler: this.handler } = this.freshEndpoints());
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void this.handler.handle(request, response));
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /**
   * The endpoints with nothing handed out yet: no codes, refresh tokens, sign-in sessions or pending sign-in pages,
   * and the random lifetimes drawn from the start of their seed again.
   */
  private freshEndpoints(): { services: EmulatorServices; handler: EmulatorRequestHandler } {
    const random = this.randomSeed !== undefined ? seededRandom(this.randomSeed) : Math.random;
    const services: EmulatorServices = {
      authorityHost: this.authorityHost,
      directory: this.directory,
      policies: this.policies,
      clock: this.clock,
      issuer: new TokenIssuer(this.keys, this.clock, this.authorityHost, this.lifetimes, random),
      grants: new GrantStore(this.clock),
    };
    const allowLoginHintSignIn = this.allowLoginHintSignIn;
    const authorize = new AuthorizeEndpoint(services, { allowLoginHintSignIn: () => allowLoginHintSignIn });
    const dependencies = { services, faults: this.faults, log: this.log, keys: this.keys, authorize, graph: new GraphEndpoint(services), graphBaseUrl: this.graphBaseUrl };
    const handler = new EmulatorRequestHandler(dependencies, this.faults, this.log);
    return { services, handler };
  }

  /** @internal use `startEntraEmulator()` */
  static async start(options: EntraEmulatorOptions = {}): Promise<EntraEmulator> {
    const startedAt = performance.now();
    const seedFromFile = options.seedFile !== undefined && options.seed === undefined ? await readSeedFile(options.seedFile) : undefined;
    const { host, port, hostnames, dataDir, lifetimes, randomSeed, seed, allowLoginHintSignIn } = resolveEmulatorOptions(
      seedFromFile === undefined ? options : { ...options, seed: seedFromFile as EmulatorSeed, seedFile: undefined },
    );
    const releaseDataDir = dataDir ? await lockDataDir(dataDir) : async () => undefined;
    const leases = new CertificateLeases(certificatePoolFor(defaultKeyCacheDir()), createSelfSignedCertificate);
    let server: Server | undefined;
    try {
      const { authority, tls } = await keyMaterial(dataDir ?? defaultKeyCacheDir(), tlsNames(host, hostnames));
      const keptKeys = dataDir ? await keptSigningKeys(dataDir) : undefined;
      const keys = await SigningKeyRing.create(keptKeys, leases.certificate);
      if (dataDir && !keptKeys) await keepSigningKeys(dataDir, keys.published);
      server = createServer({ key: tls.privateKeyPem, cert: tls.certificatePem, minVersion: 'TLSv1.2' });
      await listen(server, port, host);
      const address = server.address();
      if (!address || typeof address === 'string') throw new Error('The emulator could not read its listening address');
      const emulator = new EntraEmulator(server, keys, leases, `https://${authorityHostName(host, hostnames)}:${address.port}`, authority.certificatePem, lifetimes, allowLoginHintSignIn, randomSeed);
      emulator.releaseDataDir = releaseDataDir;
      return await emulator.seed(seed, startedAt);
    } catch (error) {
      if (server?.listening) await new Promise((resolve) => server!.close(resolve));
      await releaseDataDir();
      await leases.releaseAll();
      throw error;
    }
  }

  private async seed(seed: ResolvedEmulatorOptions['seed'], startedAt: number): Promise<EntraEmulator> {
    try {
      if (seed === 'default') this.seeded = await seedDefaultDirectory(this.directory, this.policies);
      else if (typeof seed === 'function') await seed(this);
      else if (typeof seed === 'object') applySeed(seed, this.directory, this.policies);
    } catch (error) {
      await this.close();
      throw error;
    }
    // What the seed built is what reset() returns to (the same secrets and certificates, not new ones).
    this.restoreSeed = [this.directory.checkpoint(), this.policies.checkpoint(), this.keys.checkpoint()];
    this.startDurationMs = Math.round(performance.now() - startedAt);
    return this;
  }

  /** The default directory's tenants, users, apps and credentials. Throws when the emulator was not seeded with it. */
  get defaults(): DefaultDirectory {
    if (!this.seeded) throw new Error("This emulator was not started with the default directory (seed: 'default')");
    return this.seeded;
  }

  /** `https://{host}:{port}/{tenant}`: an authority for MSAL; the first tenant of the directory by default. */
  authority(tenant?: string): string {
    const segment = tenant ?? this.directory.tenants[0]?.id;
    if (!segment) throw new Error('authority(): the directory has no tenant; pass one or add one');
    return `${this.authorityHost}/${segment}`;
  }

  /** The host MSAL must list in `knownAuthorities` (`127.0.0.1:port`). */
  get knownAuthority(): string {
    return new URL(this.authorityHost).host;
  }

  /** The v2 issuer of a tenant's tokens. */
  issuer(tenantId: string, version: 1 | 2 = 2): string {
    return version === 2 ? this.services.issuer.issuerV2(tenantId) : this.services.issuer.issuerV1(tenantId);
  }

  /** Mints an access token as if `user` had signed in to `client` for `resource` (or an app-only one, without user). */
  async issueAccessToken(options: IssueAccessTokenOptions): Promise<string> {
    const client = typeof options.client === 'string' ? this.directory.app(options.client) : options.client;
    const baseResource = typeof options.resource === 'string' ? this.directory.app(options.resource) : options.resource;
    const resource = options.version ? { ...baseResource, accessTokenVersion: options.version } : baseResource;
    const overrides: TokenOverrides = { ...(options.claims ? { claims: options.claims } : {}), ...(options.header ? { header: options.header } : {}) };
    const authenticatedBy = options.authenticatedBy ?? 'secret';
    if (options.user === undefined) {
      if (!options.roles) throw new TypeError('issueAccessToken: an app-only token (no user) needs roles');
      const tenantId = options.tenantId ?? client.tenantId;
      const issued = await this.services.issuer.appAccessToken(
        { client, resource, tenantId, servicePrincipalId: this.directory.servicePrincipalId(client, tenantId), roles: options.roles, authenticatedBy, ...(options.lifetimeSec ? { lifetimeSec: options.lifetimeSec } : {}) },
        overrides,
      );
      return issued.token;
    }
    const user = typeof options.user === 'string' ? this.directory.user(options.user) : options.user;
    const issued = await this.services.issuer.userAccessToken(
      {
        user,
        client,
        resource,
        scopes: options.scopes ?? resource.scopes,
        amr: options.amr ?? ['pwd'],
        authenticatedBy,
        ...(options.clientCapabilities ? { clientCapabilities: options.clientCapabilities } : {}),
        ...(options.lifetimeSec ? { lifetimeSec: options.lifetimeSec } : {}),
      },
      overrides,
    );
    return issued.token;
  }

  /** Mints an ID token for `user` signed in to `client` (never valid as an access token). */
  async issueIdToken(options: IssueIdTokenOptions): Promise<string> {
    const client = typeof options.client === 'string' ? this.directory.app(options.client) : options.client;
    const user = typeof options.user === 'string' ? this.directory.user(options.user) : options.user;
    const overrides: TokenOverrides = { ...(options.claims ? { claims: options.claims } : {}), ...(options.header ? { header: options.header } : {}) };
    const issued = await this.services.issuer.idToken(
      { user, client, ...(options.nonce !== undefined ? { nonce: options.nonce } : {}), ...(options.lifetimeSec ? { lifetimeSec: options.lifetimeSec } : {}) },
      overrides,
    );
    return issued.token;
  }

  /**
   * Key ids of the published signing keys, oldest first; the last one signs. Like Entra, the emulator publishes more
   * than one key: it starts with two (a previous key that still verifies, and the active one).
   */
  get signingKeyIds(): string[] {
    return this.keys.published.map((key) => key.kid);
  }

  /**
   * Starts signing with a new key. The previous key stays published (tokens it signed still verify) until
   * `retireSigningKey(kid)`, or at once with `{ retirePrevious: true }`.
   */
  async rotateSigningKeys(options: { retirePrevious?: boolean } = {}): Promise<{ kid: string; previousKid: string }> {
    const previousKid = this.keys.active.kid;
    const key = await this.keys.rotate();
    if (options.retirePrevious) this.keys.retire(previousKid);
    return { kid: key.kid, previousKid };
  }

  /** Stops publishing a signing key: tokens it signed no longer verify. */
  retireSigningKey(kid: string): void {
    this.keys.retire(kid);
  }

  /** Revokes a user's refresh tokens (as "revoke sessions" does in Entra). */
  revokeUserSessions(user: EmulatorUser | string): void {
    this.services.grants.revokeUser(typeof user === 'string' ? this.directory.user(user).id : user.id);
  }

  /** Every request received so far, oldest first (secrets and tokens in them are not recorded). */
  get requests(): readonly RecordedRequest[] {
    return this.log.entries();
  }

  /** Requests to the token endpoint, optionally filtered (e.g. `{ grantType: JWT_BEARER_GRANT }`). */
  tokenRequests(filter: Omit<RequestFilter, 'endpoint'> = {}): RecordedRequest[] {
    return this.log.entries({ ...filter, endpoint: 'token' });
  }

  clearRequests(): void {
    this.log.clear();
  }

  /**
   * Drives the sign-in page over HTTP, as a browser would: opens `authorizeUrl`, picks `username` (unless `login_hint`
   * already signed in), enters the second factor when asked, and returns the redirect carrying the code.
   */
  async signIn(authorizeUrl: string, options: SignInOptions): Promise<URL> {
    return completeSignIn(this.fetch, authorizeUrl, options);
  }

  /**
   * Back to the state right after start: the seeded directory (the same ids, secrets and certificates, so
   * `emulator.defaults` stays valid), the seeded policies, the seeded signing keys, the real time, no queued faults, an
   * empty request log, and no codes, refresh tokens or sign-in sessions handed out. The port, the TLS certificate and
   * its CA stay, so clients configured once keep working: call it in `afterEach` instead of starting a new emulator.
   */
  reset(): void {
    if (this.closed) throw new Error('reset(): the emulator is closed');
    for (const restore of this.restoreSeed) restore();
    this.clock.reset();
    this.faults.clear();
    this.log.clear();
    ({ services: this.services, handler: this.handler } = this.freshEndpoints());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pinnedFetch.close();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closing;
    await this.releaseDataDir();
    // The next emulator may sign with these keys now: this one no longer answers.
    await this.leases.releaseAll();
  }
}

/** Starts a local Entra ID emulator over HTTPS. Close it with `emulator.close()`. */
export function startEntraEmulator(options?: EntraEmulatorOptions): Promise<EntraEmulator> {
  return EntraEmulator.start(options);
}
