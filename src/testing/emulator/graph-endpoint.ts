import { randomUUID } from 'node:crypto';
import { MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE, type EmulatorUser } from './directory.js';
import { decodeUnverified, hasValidHashedNonceSignature, hasValidSignature, type JwtClaims } from './jwt.js';
import type { EmulatorServices } from './services.js';
import { canonicalScope, splitScopeParameter } from './scopes.js';
import { pairwiseSubject } from './tokens.js';

/** Where the Graph stand-in lives on the emulator's host: `{authorityHost}/graph` stands for `https://graph.microsoft.com`. */
export const GRAPH_PATH_SEGMENT = 'graph';

/** Graph accepts a little clock skew on `nbf`, as every resource does. */
const SKEW_SEC = 300;

/** Delegated permissions that let `/me` read the signed-in user's profile (Graph permissions reference, "Get user"). */
const PROFILE_SCOPES = ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

export interface GraphResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Graph's error body: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
function graphError(status: number, code: string, message: string, context: { requestId: string; clientRequestId: string; nowMs: number }, headers: Record<string, string> = {}): GraphResponse {
  return {
    status,
    headers,
    body: {
      error: {
        code,
        message,
        innerError: { date: new Date(context.nowMs).toISOString().replace(/\.\d+Z$/, ''), 'request-id': context.requestId, 'client-request-id': context.clientRequestId },
      },
    },
  };
}

/** What a validated Graph token says: the user (for delegated tokens), its scopes and the client it was issued to. */
type GraphCaller = { kind: 'delegated'; user: EmulatorUser; scopes: string[]; claims: JwtClaims } | { kind: 'app'; claims: JwtClaims };

/**
 * A minimal Microsoft Graph: `GET /v1.0/me` and the OpenID Connect userinfo endpoint, for tokens the emulator issued
 * for Graph. It checks them the way Graph does (its own audience, the hashed header `nonce`), which no other resource
 * can, so code that forwards a Graph token to Graph works here as in production.
 */
export class GraphEndpoint {
  constructor(private readonly services: EmulatorServices) {}

  async handle(method: string, path: string, authorization: string | undefined, clientRequestId: string | undefined): Promise<GraphResponse | undefined> {
    const context = { requestId: randomUUID(), clientRequestId: clientRequestId ?? randomUUID(), nowMs: this.services.clock.nowMs() };
    const isMe = method === 'GET' && path === 'v1.0/me';
    const isUserInfo = (method === 'GET' || method === 'POST') && path === 'oidc/userinfo';
    if (!isMe && !isUserInfo) return undefined;
    const withIds = (response: GraphResponse): GraphResponse => ({ ...response, headers: { ...response.headers, 'request-id': context.requestId, 'client-request-id': context.clientRequestId } });

    const caller = await this.authenticate(authorization);
    if (typeof caller === 'string') {
      // Graph's 401 names the authority a client should go to, like any resource's challenge.
      const challenge = `Bearer realm="", authorization_uri="${this.services.authorityHost}/common/oauth2/authorize", client_id="${MICROSOFT_GRAPH_APP_ID}"`;
      return withIds(graphError(401, 'InvalidAuthenticationToken', caller, context, { 'www-authenticate': challenge }));
    }
    if (caller.kind === 'app') {
      return withIds(graphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.', context));
    }
    if (isUserInfo) {
      const { user, claims } = caller;
      return withIds({ status: 200, headers: {}, body: { sub: pairwiseSubject(user.id, String(claims.appid ?? claims.azp ?? '')), name: user.displayName, email: this.mailOf(user) } });
    }
    if (!caller.scopes.some((scope) => canonicalScope(PROFILE_SCOPES, scope))) {
      return withIds(graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', context));
    }
    const { user } = caller;
    return withIds({
      status: 200,
      headers: {},
      body: {
        '@odata.context': `${MICROSOFT_GRAPH_RESOURCE}/v1.0/$metadata#users/$entity`,
        id: user.id,
        displayName: user.displayName,
        userPrincipalName: user.username,
        mail: this.mailOf(user),
      },
    });
  }

  /** A guest's mail is its home address; the emulator's users have no mailbox of their own beyond their sign-in name. */
  private mailOf(user: EmulatorUser): string {
    if (!user.homeObjectId) return user.username;
    return this.services.directory.findUser(user.homeObjectId)?.username ?? user.username;
  }

  /** The caller behind a bearer token, or why Graph refuses it (Graph's own wording). */
  private async authenticate(authorization: string | undefined): Promise<GraphCaller | string> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return 'Access token is empty.';
    const token = match[1]!;
    const decoded = decodeUnverified(token);
    if (!decoded) return 'IDX14100: JWT is not well formed.';
    const { header, claims } = decoded;
    const key = typeof header.kid === 'string' ? this.services.issuer.findVerificationKey(header.kid) : undefined;
    const signed =
      key !== undefined &&
      header.alg === 'RS256' &&
      (typeof header.nonce === 'string' ? await hasValidHashedNonceSignature(token, key) : await hasValidSignature(token, key, ['RS256']));
    if (!signed) return 'Access token validation failure. Invalid signature.';
    const audience = typeof claims.aud === 'string' ? claims.aud.replace(/\/$/, '').toLowerCase() : '';
    if (audience !== MICROSOFT_GRAPH_RESOURCE && audience !== MICROSOFT_GRAPH_APP_ID) return 'Access token validation failure. Invalid audience.';
    if (typeof claims.tid !== 'string' || !this.services.issuer.isOwnIssuer(claims.iss, claims.tid)) return 'Access token validation failure. Invalid issuer.';
    const now = this.services.clock.nowSec();
    if (typeof claims.exp !== 'number' || claims.exp <= now) return 'Lifetime validation failed, the token is expired.';
    if (typeof claims.nbf === 'number' && claims.nbf - SKEW_SEC > now) return 'Lifetime validation failed, the token is not yet valid.';
    const scopes = typeof claims.scp === 'string' ? splitScopeParameter(claims.scp) : [];
    if (scopes.length === 0) return { kind: 'app', claims };
    const user = typeof claims.oid === 'string' ? this.services.directory.findUser(claims.oid) : undefined;
    if (!user || user.tenantId !== claims.tid) return 'Access token validation failure. The user does not exist in the tenant.';
    return { kind: 'delegated', user, scopes, claims };
  }
}
