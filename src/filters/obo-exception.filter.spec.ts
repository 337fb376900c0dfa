import { Logger, type ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { lastValueFrom, type Observable } from 'rxjs';
import {
  AppOnlyTokenError,
  ClientConfigurationError,
  ConditionalAccessBlockedError,
  ConsentRequiredError,
  IdentityProviderUnavailableError,
  InsufficientClaimsError,
  InsufficientScopeError,
  InvalidGrantError,
  InvalidTokenError,
  MissingTokenError,
  OboConfigurationError,
  type KnownOboError,
} from '../errors/obo-errors.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OboExceptionFilter, toErrorResponse } from './obo-exception.filter.js';

const MFA_CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["8a3b2f4c-policy"]}}}';
const SECRET = 'Sup3r~Secret.Value_DO-NOT-LEAK';
const TENANT = '6f1c2a9e-3b7d-4e8f-a1c2-5d6e7f8a9b0c';
const ENTRA = { error: 'invalid_grant', errorCodes: [50076], correlationId: 'c0ffee00-0000-4000-8000-000000000001' };

describe('toErrorResponse', () => {
  it('missing token: 401 with a bare Bearer challenge', () => {
    expect(toErrorResponse(new MissingTokenError())).toEqual({
      status: 401,
      headers: { 'www-authenticate': 'Bearer' },
      body: { statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' },
    });
  });

  it('invalid token: 401 invalid_token with the description', () => {
    expect(toErrorResponse(new InvalidTokenError('expired', 'The access token has expired.'))).toEqual({
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="The access token has expired."' },
      body: { statusCode: 401, error: 'invalid_token', message: 'The access token has expired.' },
    });
  });

  it('invalid grant (Entra refused the assertion): 401 invalid_token, so the client gets a new token', () => {
    const response = toErrorResponse(new InvalidGrantError("Entra ID refused the user's token for the exchange (AADSTS500133).", ENTRA));
    expect(response.status).toBe(401);
    expect(response.headers).toEqual({
      'www-authenticate': `Bearer error="invalid_token", error_description="Entra ID refused the user's token for the exchange (AADSTS500133)."`,
    });
    expect(response.body.error).toBe('invalid_token');
  });

  it('insufficient scope: 403 naming every scope or role that would do', () => {
    expect(toErrorResponse(new InsufficientScopeError(['access_as_user', 'Profile.Admin']))).toEqual({
      status: 403,
      headers: {
        'www-authenticate':
          'Bearer error="insufficient_scope", scope="access_as_user Profile.Admin", error_description="The access token does not grant a scope or role this operation requires."',
      },
      body: { statusCode: 403, error: 'insufficient_scope', message: 'The access token does not grant a scope or role this operation requires.' },
    });
  });

  it('app-only token where a user is needed: 403 insufficient_scope', () => {
    expect(toErrorResponse(new AppOnlyTokenError())).toEqual({
      status: 403,
      headers: {
        'www-authenticate': 'Bearer error="insufficient_scope", error_description="This operation acts on behalf of a user; an app-only token cannot be used for it."',
      },
      body: { statusCode: 403, error: 'insufficient_scope', message: 'This operation acts on behalf of a user; an app-only token cannot be used for it.' },
    });
  });

  // https://learn.microsoft.com/entra/identity-platform/claims-challenge: a resource's challenge is
  // `Bearer realm="", authorization_uri="…/oauth2/authorize", error="insufficient_claims", claims="<base64>"`, and
  // clients (MSAL among them) find the authority to sign in at through authorization_uri.
  it("claims challenge: 401 insufficient_claims in Entra's format, naming the caller's authority, the claims base64-encoded and not in the body", () => {
    const response = toErrorResponse(new InsufficientClaimsError(MFA_CLAIMS, ENTRA), { authorityHost: 'https://login.microsoftonline.us', tenantId: TENANT });
    const base64Claims = Buffer.from(MFA_CLAIMS, 'utf8').toString('base64');
    expect(response.status).toBe(401);
    expect(response.headers).toEqual({
      'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/authorize", error="insufficient_claims", claims="${base64Claims}"`,
    });
    expect(Buffer.from(/claims="([^"]+)"/.exec(response.headers['www-authenticate']!)![1]!, 'base64').toString('utf8')).toBe(MFA_CLAIMS);
    expect(response.body).toEqual({ statusCode: 401, error: 'insufficient_claims', message: expect.stringContaining('AADSTS50076') });
    const body = JSON.stringify(response.body);
    expect(body).not.toContain('capolids');
    expect(body).not.toContain('8a3b2f4c-policy');
    expect(body).not.toContain(base64Claims);
  });

  it("claims challenge: the error's own tenant wins; without any, the public cloud's common authority", () => {
    const other = '0b3e7e23-6f5c-4a88-9d7e-3c2b4f9a1d10';
    const fromError = toErrorResponse(new InsufficientClaimsError(MFA_CLAIMS, ENTRA, { tenantId: other }), { authorityHost: 'https://login.example.com', tenantId: TENANT });
    expect(fromError.headers['www-authenticate']).toContain(`authorization_uri="https://login.example.com/${other}/oauth2/v2.0/authorize"`);
    const bare = toErrorResponse(new InsufficientClaimsError(MFA_CLAIMS, ENTRA));
    expect(bare.headers['www-authenticate']).toMatch(/^Bearer realm="", authorization_uri="https:\/\/login\.microsoftonline\.com\/common\/oauth2\/v2\.0\/authorize", error="insufficient_claims", claims="/);
  });

  it('consent missing: 403, the body names the scopes', () => {
    const response = toErrorResponse(new ConsentRequiredError(['api://downstream/Profile.Read'], ENTRA));
    expect(response.status).toBe(403);
    expect(response.headers).toEqual({});
    expect(response.body).toEqual({ statusCode: 403, error: 'consent_required', message: expect.stringContaining('api://downstream/Profile.Read'), scopes: ['api://downstream/Profile.Read'] });
  });

  it('Conditional Access block: 403, the body names the block', () => {
    const response = toErrorResponse(new ConditionalAccessBlockedError(ENTRA));
    expect(response.status).toBe(403);
    expect(response.headers).toEqual({});
    expect(response.body).toEqual({ statusCode: 403, error: 'conditional_access_blocked', message: expect.stringContaining('Conditional Access') });
  });

  it.each([
    [30, '30'],
    [2.1, '3'],
    [0, '1'],
    [0.2, '1'],
  ])('identity provider unavailable for %p s: 503 with Retry-After %s', (retryAfterSec, header) => {
    expect(toErrorResponse(new IdentityProviderUnavailableError('The identity provider is throttling token requests.', retryAfterSec))).toEqual({
      status: 503,
      headers: { 'retry-after': header },
      body: { statusCode: 503, error: 'temporarily_unavailable', message: 'The identity provider is unavailable; try again later.' },
    });
  });

  it('our own credential rejected: 500 with a generic body and no challenge', () => {
    const failure = new ClientConfigurationError(`Entra ID rejected this API's token request: invalid_client (AADSTS7000215). secret=${SECRET}`, { error: 'invalid_client' });
    expect(toErrorResponse(failure)).toEqual({
      status: 500,
      headers: {},
      body: { statusCode: 500, error: 'internal_error', message: 'The service is misconfigured.' },
    });
  });

  it('invalid module options: 500 with a generic body', () => {
    expect(toErrorResponse(new OboConfigurationError([`clientId must be a GUID (was ${SECRET})`]))).toEqual({
      status: 500,
      headers: {},
      body: { statusCode: 500, error: 'internal_error', message: 'The service is misconfigured.' },
    });
  });

  it('covers every error code, and no body carries a claim, the Entra details or a secret', () => {
    const every: KnownOboError[] = [
      new MissingTokenError(),
      new InvalidTokenError('audience', 'The access token is not for this API (aud).'),
      new InsufficientScopeError(['a']),
      new AppOnlyTokenError(),
      new InsufficientClaimsError(MFA_CLAIMS, ENTRA),
      new ConsentRequiredError(['api://downstream/.default'], ENTRA),
      new ConditionalAccessBlockedError(ENTRA),
      new InvalidGrantError('refused', ENTRA),
      new ClientConfigurationError(SECRET, ENTRA),
      new IdentityProviderUnavailableError('down', 5, ENTRA),
      new OboConfigurationError([SECRET]),
    ];
    expect(new Set(every.map((error) => error.code)).size).toBe(11);
    for (const error of every) {
      const { body, status } = toErrorResponse(error);
      expect(body.statusCode).toBe(status);
      const rendered = JSON.stringify(body);
      for (const forbidden of [SECRET, 'capolids', ENTRA.correlationId]) expect(rendered).not.toContain(forbidden);
    }
  });
});

describe('OboExceptionFilter', () => {
  interface Reply {
    headers: Record<string, string>;
    body?: unknown;
    status?: number;
  }

  function hostFor(reply: Reply, type: 'http' | 'rpc' = 'http', request: { user?: unknown } = {}): ArgumentsHost {
    return { getType: () => type, switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }) } as unknown as ArgumentsHost;
  }

  const adapterHost = {
    httpAdapter: {
      setHeader: (response: Reply, name: string, value: string) => {
        response.headers[name] = value;
      },
      reply: (response: Reply, body: unknown, status: number) => {
        response.body = body;
        response.status = status;
      },
    },
  } as unknown as HttpAdapterHost;

  it("answers through the platform's HTTP adapter with the mapped status, headers and body", () => {
    const reply: Reply = { headers: {} };
    new OboExceptionFilter(adapterHost).catch(new InsufficientScopeError(['access_as_user']), hostFor(reply));
    expect(reply.status).toBe(403);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_scope", scope="access_as_user"/);
    expect(reply.body).toEqual(expect.objectContaining({ statusCode: 403, error: 'insufficient_scope' }));
  });

  it("points a claims challenge at the caller's tenant (the guard's principal) on the configured authority host", () => {
    const options = { authorityHost: 'https://127.0.0.1:8443', tenantId: 'organizations' } as ResolvedOboOptions;
    const reply: Reply = { headers: {} };
    new OboExceptionFilter(adapterHost, options).catch(new InsufficientClaimsError(MFA_CLAIMS, ENTRA), hostFor(reply, 'http', { user: { tid: TENANT, oid: 'x' } }));
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toContain(`authorization_uri="https://127.0.0.1:8443/${TENANT}/oauth2/v2.0/authorize"`);

    // A route that validated the token itself leaves no principal: the configured tenant stands in.
    const unguarded: Reply = { headers: {} };
    new OboExceptionFilter(adapterHost, options).catch(new InsufficientClaimsError(MFA_CLAIMS, ENTRA), hostFor(unguarded));
    expect(unguarded.headers['www-authenticate']).toContain('authorization_uri="https://127.0.0.1:8443/organizations/oauth2/v2.0/authorize"');
  });

  it('logs configuration errors as errors, without answering with their text', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const reply: Reply = { headers: {} };
      new OboExceptionFilter(adapterHost).catch(new ClientConfigurationError('invalid_client (AADSTS7000215)', { error: 'invalid_client' }), hostFor(reply));
      expect(reply.status).toBe(500);
      expect(JSON.stringify(reply.body)).not.toContain('AADSTS7000215');
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('AADSTS7000215'));
    } finally {
      logged.mockRestore();
    }
  });

  it('rethrows on a transport it does not know', () => {
    const error = new MissingTokenError();
    expect(() => new OboExceptionFilter(adapterHost).catch(error, { getType: () => 'kafka-streams' } as unknown as ArgumentsHost)).toThrow(error);
  });

  it('throws a GraphQL error whose extensions carry the code, the status and the RFC 6750 error', () => {
    const host = { getType: () => 'graphql' } as unknown as ArgumentsHost;
    let thrown: unknown;
    try {
      new OboExceptionFilter(adapterHost).catch(new IdentityProviderUnavailableError('ECONNRESET 10.0.0.7', 7), host);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe('The identity provider is unavailable; try again later.');
    expect((thrown as { extensions: unknown }).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', status: 503, error: 'temporarily_unavailable', retryAfterSec: 7 });
  });

  it("emits a WsException-shaped 'exception' event to a socket.io client, and sends a ws client the same as a JSON frame", () => {
    const emitted: unknown[] = [];
    const sent: string[] = [];
    const wsHost = (client: object) => ({ getType: () => 'ws', switchToWs: () => ({ getClient: () => client }) }) as unknown as ArgumentsHost;
    new OboExceptionFilter(adapterHost).catch(new MissingTokenError(), wsHost({ emit: (event: string, data: unknown) => emitted.push([event, data]) }));
    new OboExceptionFilter(adapterHost).catch(new MissingTokenError(), wsHost({ readyState: 1, send: (frame: string) => sent.push(frame) }));
    const payload = { status: 'error', statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' };
    expect(emitted).toEqual([['exception', payload]]);
    expect(sent.map((frame) => JSON.parse(frame) as unknown)).toEqual([{ event: 'exception', data: payload }]);
  });

  it('fails an RPC answer with the body, and with the gRPC status code on gRPC', async () => {
    const rpcHost = (context: unknown) => ({ getType: () => 'rpc', switchToRpc: () => ({ getContext: () => context }) }) as unknown as ArgumentsHost;
    const failure = (answer: unknown) => lastValueFrom(answer as Observable<never>).catch((error: unknown) => error);
    const forbidden = new InsufficientScopeError(['Tasks.Read']);
    expect(await failure(new OboExceptionFilter(adapterHost).catch(forbidden, rpcHost({ args: [] })))).toEqual({ status: 'error', statusCode: 403, error: 'insufficient_scope', message: forbidden.message });
    const grpcMetadata = { get: () => [], getMap: () => ({}) };
    expect(await failure(new OboExceptionFilter(adapterHost).catch(forbidden, rpcHost(grpcMetadata)))).toEqual({
      code: 7, // PERMISSION_DENIED, https://grpc.github.io/grpc/core/md_doc_statuscodes.html
      details: `insufficient_scope: ${forbidden.message}`,
      statusCode: 403,
      error: 'insufficient_scope',
      message: forbidden.message,
    });
  });
});
