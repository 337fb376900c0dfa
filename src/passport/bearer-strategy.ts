import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { bearerTokenFrom } from '../auth/bearer-token.js';
import { AuthorityMetadataClient } from '../discovery/authority-metadata.js';
import { OboError } from '../errors/obo-errors.js';
import { bearerChallenge } from '../errors/www-authenticate.js';
import { verifierSettingsFromBearerOptions, type BearerStrategyOptions } from './bearer-strategy-options.js';

type Done = (error: unknown, user?: unknown, info?: unknown) => void;
/** passport-azure-ad's verify callback: `(token, done)`, or `(req, token, done)` with `passReqToCallback`. */
export type BearerVerifyCallback = ((token: Record<string, unknown>, done: Done) => void) | ((request: unknown, token: Record<string, unknown>, done: Done) => void);

interface PassportRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A passport strategy with passport-azure-ad's `BearerStrategy` interface (name `oauth-bearer`, its options, its
 * verify callback receiving the token's claims), validating with this library's verifier. Passport lends
 * `success`, `fail` and `error` to each authentication; no passport import is needed to define it.
 */
export class BearerStrategy {
  name = 'oauth-bearer';
  private readonly verifier: AccessTokenVerifier;
  private readonly requiredScopes: string[];
  private readonly passReqToCallback: boolean;

  declare success: (user: unknown, info?: unknown) => void;
  declare fail: (challenge?: unknown, status?: number) => void;
  declare error: (error: unknown) => void;

  constructor(
    options: BearerStrategyOptions,
    private readonly verify?: BearerVerifyCallback,
  ) {
    const { settings, requiredScopes, passReqToCallback } = verifierSettingsFromBearerOptions(options);
    this.verifier = new AccessTokenVerifier(settings, new AuthorityMetadataClient(settings));
    this.requiredScopes = requiredScopes;
    this.passReqToCallback = passReqToCallback;
  }

  authenticate(request: PassportRequest): void {
    const token = bearerTokenFrom(request.headers.authorization);
    if (!token) {
      this.fail(bearerChallenge(), 401);
      return;
    }
    this.verifier.verify(token).then(
      (principal) => {
        if (this.requiredScopes.length > 0 && !this.requiredScopes.some((scope) => principal.scopes.includes(scope))) {
          this.fail(bearerChallenge({ error: 'insufficient_scope', scope: this.requiredScopes.join(' ') }), 403);
          return;
        }
        const claims = { ...principal.claims };
        if (!this.verify) {
          this.success(principal);
          return;
        }
        const done: Done = (error, user, info) => {
          if (error) this.error(error);
          else if (!user) this.fail(bearerChallenge({ error: 'invalid_token' }), 401);
          else this.success(user, info);
        };
        if (this.passReqToCallback) (this.verify as (request: unknown, token: Record<string, unknown>, done: Done) => void)(request, claims, done);
        else (this.verify as (token: Record<string, unknown>, done: Done) => void)(claims, done);
      },
      (error: unknown) => {
        // A bad token fails authentication (401); the identity provider being down is an error, not a failure.
        if (error instanceof OboError && error.code === 'invalid_token') this.fail(bearerChallenge({ error: 'invalid_token', error_description: error.message }), 401);
        else this.error(error);
      },
    );
  }
}
