import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { EmulatorApp, EmulatorUser } from './directory.js';
import type { CodeChallengeMethod } from './grant-store.js';
import { EntraProtocolError, entraErrors } from './entra-errors.js';
import { authenticationContextsFrom, clientCapabilitiesFrom, isClaimsChallenge } from './grants/client-capabilities.js';
import { resolveRequestedScopes } from './scopes.js';
import type { EmulatorServices } from './services.js';
import { accountPickerPage, errorPage, formPostPage, secondFactorPage } from './sign-in-pages.js';
import { resolveTenantSegment } from './token-endpoint.js';

export type AuthorizeOutcome = { kind: 'html'; status: number; html: string } | { kind: 'redirect'; location: string };

type ResponseMode = 'query' | 'fragment' | 'form_post';

/** A sign-in in progress: the validated authorize request, kept server-side so the page's forms carry only its id. */
interface SignInTransaction {
  id: string;
  tenantSegment: string;
  tenantId: string | undefined;
  client: EmulatorApp;
  redirectUri: string;
  responseMode: ResponseMode;
  scope: string;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: CodeChallengeMethod;
  /** `code id_token` (hybrid, as passport-azure-ad's OIDCStrategy asks): an ID token comes back with the code. */
  hybrid: boolean;
  platform: 'web' | 'spa';
  claims: string | undefined;
  expiresAtMs: number;
  /** Set once an account is picked and a second factor is due. */
  pendingUser?: EmulatorUser;
  verificationCode?: string;
}

const TRANSACTION_LIFETIME_MS = 15 * 60 * 1000;
const MAX_TRANSACTIONS = 10_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Entra ignores the port of a loopback redirect URI (RFC 8252 §7.3), so tests can use ephemeral ports. */
export function isRegisteredRedirectUri(app: EmulatorApp, redirectUri: string): boolean {
  return matchesRegisteredUri([...app.redirectUris, ...app.spaRedirectUris], redirectUri);
}

/** Whether `uri` is one of `registered`, a loopback `http:` URI matching on any port. */
export function matchesRegisteredUri(registeredUris: readonly string[], uri: string): boolean {
  let requested: URL;
  try {
    requested = new URL(uri);
  } catch {
    return false;
  }
  const redirectUri = uri;
  return registeredUris.some((registered) => {
    if (registered === redirectUri) return true;
    if (!URL.canParse(registered)) return false;
    const candidate = new URL(registered);
    return (
      candidate.protocol === 'http:' &&
      LOOPBACK_HOSTS.has(candidate.hostname) &&
      requested.protocol === 'http:' &&
      requested.hostname === candidate.hostname &&
      requested.pathname === candidate.pathname
    );
  });
}

/**
 * `/{tenant}/oauth2/v2.0/authorize`: validates the request, shows an account picker (or signs in the `login_hint`
 * user directly when allowed), asks for a second factor when Conditional Access or a claims challenge demands one,
 * and sends the browser back with a one-time code bound to the PKCE challenge.
 */
export class AuthorizeEndpoint {
  private readonly transactions = new Map<string, SignInTransaction>();

  constructor(
    private readonly services: EmulatorServices,
    private readonly options: { allowLoginHintSignIn: () => boolean },
  ) {}

  /** The GET: a new sign-in. */
  async begin(tenantSegment: string, query: URLSearchParams): Promise<AuthorizeOutcome> {
    let tenantId: string | undefined;
    try {
      tenantId = resolveTenantSegment(tenantSegment, this.services);
    } catch (error) {
      return this.errorPage(error);
    }
    const clientId = query.get('client_id')?.toLowerCase();
    if (!clientId) return this.errorPage(entraErrors.missingParameter('client_id'));
    const client = this.services.directory.findApp(clientId);
    if (!client || client.clientId !== clientId || (tenantId !== undefined && !this.services.directory.isAppAvailableIn(client, tenantId))) {
      return this.errorPage(entraErrors.unknownClient(clientId, tenantId ?? tenantSegment));
    }
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri || !isRegisteredRedirectUri(client, redirectUri)) return this.errorPage(entraErrors.redirectUriMismatch(client.clientId));

    const responseMode = (query.get('response_mode') ?? 'query') as ResponseMode;
    const state = query.get('state') ?? undefined;
    const fail = (error: EntraProtocolError | { error: string; description: string }) =>
      this.respond({ redirectUri, responseMode }, errorFields(error, state));
    if (!['query', 'fragment', 'form_post'].includes(responseMode)) {
      return this.respond({ redirectUri, responseMode: 'query' }, errorFields(entraErrors.malformedRequest(`The response_mode '${responseMode}' is not supported: use query, fragment or form_post.`), state));
    }
    const responseType = (query.get('response_type') ?? '').split(/\s+/).filter(Boolean).sort().join(' ');
    if (responseType !== 'code' && responseType !== 'code id_token') {
      return fail({ error: 'unsupported_response_type', description: "AADSTS70005: response_type must be 'code' or 'code id_token'." });
    }
    const hybrid = responseType === 'code id_token';
    const nonce = query.get('nonce') ?? undefined;
    if (hybrid && responseMode === 'query') {
      return fail(entraErrors.malformedRequest("The response_mode 'query' is not allowed when an ID token is requested: use form_post or fragment."));
    }
    if (hybrid && !nonce) return fail(entraErrors.missingParameter('nonce'));
    // PKCE is required for redirect URIs of the single-page-app platform only; web and public clients may omit it,
    // and may use `plain` (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
    const platform = matchesRegisteredUri(client.spaRedirectUris, redirectUri) && !matchesRegisteredUri(client.redirectUris, redirectUri) ? 'spa' : 'web';
    const codeChallenge = query.get('code_challenge') ?? undefined;
    const codeChallengeMethod = query.get('code_challenge_method') ?? (codeChallenge !== undefined ? 'plain' : undefined);
    if (codeChallengeMethod !== undefined && codeChallengeMethod !== 'S256' && codeChallengeMethod !== 'plain') {
      return fail(entraErrors.malformedRequest(`The code_challenge_method '${codeChallengeMethod}' is not supported: use S256 or plain.`));
    }
    if (codeChallengeMethod !== undefined && !codeChallenge) return fail(entraErrors.missingParameter('code_challenge'));
    if (platform === 'spa' && !codeChallenge) return fail(entraErrors.pkceRequired());
    const scope = query.get('scope');
    if (!scope) return fail(entraErrors.missingParameter('scope'));
    try {
      resolveRequestedScopes(scope, this.services.directory, tenantId ?? client.tenantId);
    } catch (error) {
      return fail(error as EntraProtocolError);
    }

    this.dropExpired();
    const transaction: SignInTransaction = {
      id: randomUUID(),
      tenantSegment,
      tenantId,
      client,
      redirectUri,
      responseMode,
      scope,
      state,
      nonce,
      codeChallenge,
      codeChallengeMethod: codeChallengeMethod ?? 'S256',
      hybrid,
      platform,
      claims: query.get('claims') ?? undefined,
      expiresAtMs: this.services.clock.nowMs() + TRANSACTION_LIFETIME_MS,
    };
    this.transactions.set(transaction.id, transaction);

    const loginHint = query.get('login_hint');
    if (loginHint && this.options.allowLoginHintSignIn()) {
      const user = this.candidateFor(transaction, loginHint);
      if (user) return this.accountChosen(transaction, user);
      return this.picker(transaction, `No account '${loginHint}' can sign in here. Pick one below.`);
    }
    if (query.get('prompt') === 'none') {
      this.transactions.delete(transaction.id);
      return fail(entraErrors.loginRequired());
    }
    return this.picker(transaction);
  }

  /** The POSTs of the sign-in page: an account picked, or a second factor entered. */
  async continue(form: URLSearchParams): Promise<AuthorizeOutcome> {
    const transaction = this.transactions.get(form.get('tx') ?? '');
    if (!transaction || transaction.expiresAtMs <= this.services.clock.nowMs()) {
      return { kind: 'html', status: 400, html: errorPage('This sign-in has expired or is unknown. Start again from the application.') };
    }
    if (form.get('step') === 'mfa' && transaction.pendingUser && transaction.verificationCode) {
      if (form.get('otc') !== transaction.verificationCode) {
        return this.secondFactor(transaction, transaction.pendingUser, 'That code is not right. Enter the code shown.');
      }
      return this.complete(transaction, transaction.pendingUser, ['pwd', 'mfa']);
    }
    const user = this.candidateFor(transaction, form.get('user') ?? '');
    if (!user) return this.picker(transaction, 'Pick one of the accounts listed.');
    return this.accountChosen(transaction, user);
  }

  actionUrl(transaction: SignInTransaction): string {
    return `${this.services.authorityHost}/${transaction.tenantSegment}/oauth2/v2.0/authorize`;
  }

  private candidates(transaction: SignInTransaction): EmulatorUser[] {
    const { directory } = this.services;
    return transaction.tenantId ? directory.usersOf(transaction.tenantId) : directory.users.filter((user) => !user.homeTenantId);
  }

  /** The account `idOrUsername` signs in with here; a member of another tenant signs in as their guest object. */
  private candidateFor(transaction: SignInTransaction, idOrUsername: string): EmulatorUser | undefined {
    const user = this.services.directory.findUser(idOrUsername);
    if (!user) return undefined;
    const account = transaction.tenantId ? this.services.directory.accountIn(user, transaction.tenantId) : user;
    return account && this.candidates(transaction).some((candidate) => candidate.id === account.id) ? account : undefined;
  }

  private accountChosen(transaction: SignInTransaction, user: EmulatorUser): AuthorizeOutcome | Promise<AuthorizeOutcome> {
    const requested = resolveRequestedScopes(transaction.scope, this.services.directory, user.tenantId);
    const policies = requested.resource ? this.services.policies.applicable(user, requested.resource, user.tenantId) : [];
    if (policies.some((policy) => policy.grant === 'block')) {
      return this.respond(transaction, errorFields(entraErrors.blockedByConditionalAccess(), transaction.state));
    }
    // A requested authentication context takes a second factor only when a policy is bound to it; with none, Entra
    // adds it to the token as satisfied (developer-guide-conditional-access-authentication-context, "ACRS requested").
    const contexts = authenticationContextsFrom(transaction.claims);
    const contextPolicies = this.services.policies.applicableToContexts(user, user.tenantId, contexts);
    const needsSecondFactor = isClaimsChallenge(transaction.claims) || contextPolicies.length > 0 || policies.some((policy) => policy.grant !== 'block');
    if (needsSecondFactor) return this.secondFactor(transaction, user);
    return this.complete(transaction, user, ['pwd']);
  }

  private secondFactor(transaction: SignInTransaction, user: EmulatorUser, error?: string): AuthorizeOutcome {
    transaction.pendingUser = user;
    transaction.verificationCode ??= randomInt(0, 1_000_000).toString().padStart(6, '0');
    return {
      kind: 'html',
      status: 200,
      html: secondFactorPage({ action: this.actionUrl(transaction), transactionId: transaction.id, user, code: transaction.verificationCode, ...(error ? { error } : {}) }),
    };
  }

  private picker(transaction: SignInTransaction, error?: string): AuthorizeOutcome {
    const tenant = transaction.tenantId ? this.services.directory.findTenant(transaction.tenantId) : undefined;
    return {
      kind: 'html',
      status: 200,
      html: accountPickerPage({
        action: this.actionUrl(transaction),
        transactionId: transaction.id,
        client: transaction.client,
        tenant,
        users: this.candidates(transaction),
        ...(error ? { error } : {}),
      }),
    };
  }

  private async complete(transaction: SignInTransaction, user: EmulatorUser, amr: string[]): Promise<AuthorizeOutcome> {
    this.transactions.delete(transaction.id);
    const code = this.services.grants.issueCode({
      clientId: transaction.client.clientId,
      userId: user.id,
      tenantId: user.tenantId,
      amr,
      clientCapabilities: clientCapabilitiesFrom(transaction.claims),
      acrs: authenticationContextsFrom(transaction.claims),
      platform: transaction.platform,
      origin: 'sign-in',
      redirectUri: transaction.redirectUri,
      scope: transaction.scope,
      codeChallenge: transaction.codeChallenge,
      codeChallengeMethod: transaction.codeChallengeMethod,
      nonce: transaction.nonce,
      expiresAtMs: this.services.clock.nowMs() + this.services.issuer.lifetimes.authorizationCodeSec * 1000,
    });
    const idToken = transaction.hybrid ? (await this.services.issuer.idToken({ user, client: transaction.client, nonce: transaction.nonce, code })).token : undefined;
    return this.respond(transaction, {
      code,
      ...(idToken !== undefined ? { id_token: idToken } : {}),
      ...(transaction.state !== undefined ? { state: transaction.state } : {}),
      client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString('base64url'),
      session_state: randomBytes(16).toString('hex'),
    });
  }

  private respond(target: { redirectUri: string; responseMode: ResponseMode }, fields: Record<string, string>): AuthorizeOutcome {
    if (target.responseMode === 'form_post') return { kind: 'html', status: 200, html: formPostPage(target.redirectUri, fields) };
    const url = new URL(target.redirectUri);
    if (target.responseMode === 'fragment') {
      url.hash = new URLSearchParams(fields).toString();
    } else {
      for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
    }
    return { kind: 'redirect', location: url.toString() };
  }

  private errorPage(error: unknown): AuthorizeOutcome {
    const message = error instanceof EntraProtocolError ? error.message : 'The request is not valid.';
    return { kind: 'html', status: 400, html: errorPage(message) };
  }

  private dropExpired(): void {
    const now = this.services.clock.nowMs();
    if (this.transactions.size < MAX_TRANSACTIONS) return;
    for (const [id, transaction] of this.transactions) if (transaction.expiresAtMs <= now) this.transactions.delete(id);
    // Still full of live sign-ins: forget the oldest rather than grow without bound.
    while (this.transactions.size >= MAX_TRANSACTIONS) this.transactions.delete(this.transactions.keys().next().value!);
  }
}

function errorFields(error: EntraProtocolError | { error: string; description: string }, state: string | undefined): Record<string, string> {
  const fields =
    error instanceof EntraProtocolError
      ? { error: error.error, error_description: error.message, error_codes: String(error.aadsts), ...(error.extras.suberror ? { error_subcode: error.extras.suberror } : {}) }
      : { error: error.error, error_description: error.description };
  return { ...fields, ...(state !== undefined ? { state } : {}) };
}
