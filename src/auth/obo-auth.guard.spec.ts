import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { InvalidTokenError, MissingTokenError } from '../errors/obo-errors.js';
import { tallySnapshot } from '../observability/tallies.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import type { EntraPrincipal } from './entra-principal.js';
import { OboAuthGuard } from './obo-auth.guard.js';
import type { GuardedRequest } from './request-principal.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
const principal = { oid: 'user', scopes: ['access_as_user'], roles: [] } as unknown as EntraPrincipal;

/** A verifier that knows one token as validated before, and validates one other token in full. */
function fakeVerifier(calls: string[]): AccessTokenVerifier {
  return {
    rememberedPrincipal: (token: string) => (calls.push('remembered?'), token === TOKEN ? principal : undefined),
    rememberedPrincipalOfHeader: (header: string) => (calls.push('remembered header?'), header === `Bearer ${TOKEN}` ? principal : undefined),
    verify: async (token: string) => {
      calls.push('verify');
      if (token === 'fresh.token.value') return principal;
      throw new InvalidTokenError('signature', 'The access token signature is not valid.');
    },
  } as unknown as AccessTokenVerifier;
}

/** Nest's own context for an HTTP request (or, with `type`, for other handler arguments), as a guard receives it. */
function contextFor(request: GuardedRequest, type = 'http', args: unknown[] = [request, {}, () => undefined]): ExecutionContext {
  class Controller {
    route(): void {}
  }
  const context = new ExecutionContextHost(args, Controller, Controller.prototype.route);
  context.setType(type);
  return context;
}

describe('OboAuthGuard', () => {
  it('admits a token validated before synchronously: true, not a promise, and no validation', () => {
    const calls: string[] = [];
    const request: GuardedRequest = { headers: { authorization: `Bearer ${TOKEN}` } };
    const outcome = new OboAuthGuard(new Reflector(), fakeVerifier(calls)).canActivate(contextFor(request));
    expect(outcome).toBe(true);
    expect(request.user).toBe(principal);
    expect(calls).toEqual(['remembered header?']);
  });

  it('validates a token it has not seen through the verifier, as a promise', async () => {
    const calls: string[] = [];
    const request: GuardedRequest = { headers: { authorization: 'Bearer fresh.token.value' } };
    const outcome = new OboAuthGuard(new Reflector(), fakeVerifier(calls)).canActivate(contextFor(request));
    expect(outcome).toBeInstanceOf(Promise);
    await expect(outcome).resolves.toBe(true);
    expect(request.user).toBe(principal);
    expect(calls).toEqual(['remembered header?', 'remembered?', 'verify']);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${TOKEN}`],
    ['something that is not a b64token after the scheme', `Bearer ${TOKEN} ${TOKEN}`],
  ])('refuses %s with a rejected promise (MissingTokenError), never a synchronous throw, and never validates it', async (_label, authorization) => {
    const calls: string[] = [];
    const request: GuardedRequest = { headers: authorization === undefined ? {} : { authorization } };
    const before = tallySnapshot().rejections.missing_token ?? 0;
    const outcome = new OboAuthGuard(new Reflector(), fakeVerifier(calls)).canActivate(contextFor(request));
    await expect(outcome).rejects.toBeInstanceOf(MissingTokenError);
    // Counted for `entra_obo.validation.rejections` {reason: missing_token}.
    expect(tallySnapshot().rejections.missing_token).toBe(before + 1);
    expect(calls).not.toContain('verify');
    expect(request.user).toBeUndefined();
  });

  it('rejects with the verifier’s error for a token that fails validation', async () => {
    const request: GuardedRequest = { headers: { authorization: 'Bearer forged.token.value' } };
    await expect(new OboAuthGuard(new Reflector(), fakeVerifier([])).canActivate(contextFor(request))).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('lets a subclass adapt a transport it does not know through the getRequest and extractToken hooks', async () => {
    class QueueGuard extends OboAuthGuard {
      protected override getRequest(context: ExecutionContext): GuardedRequest {
        return context.getArgs<[{ envelope: GuardedRequest }]>()[0].envelope;
      }
      protected override extractToken(request: GuardedRequest): string | undefined {
        const value = request.headers['x-access-token'];
        return typeof value === 'string' ? value : undefined;
      }
    }
    const envelope: GuardedRequest = { headers: { 'x-access-token': TOKEN } };
    const context = contextFor({ headers: {} }, 'queue', [{ envelope }]);
    const calls: string[] = [];
    expect(new QueueGuard(new Reflector(), fakeVerifier(calls)).canActivate(context)).toBe(true);
    expect(envelope.user).toBe(principal);
    // Its token does not come from the Authorization header, so the header's own fast path is not taken.
    expect(calls).toEqual(['remembered?']);
    // Without the hook, the guard names the transport it cannot read instead of failing on a missing property.
    await expect(new OboAuthGuard(new Reflector(), fakeVerifier([])).canActivate(context)).rejects.toThrow("cannot read a request from a 'queue' execution context");
  });
});
