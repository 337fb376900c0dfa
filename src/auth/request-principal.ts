import { MissingTokenError } from '../errors/obo-errors.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import { bearerCredentialsOf, bearerTokenFrom } from './bearer-token.js';
import type { EntraPrincipal } from './entra-principal.js';

/** The request shape the library reads, common to Express and Fastify; `OboAuthGuard` attaches the principal as `user`. */
export interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: unknown;
}

/**
 * The validated caller of a request: the principal this module's `OboAuthGuard` attached, or (behind another guard,
 * such as a passport strategy with its own settings) the bearer token validated here, under this module's settings.
 */
export async function principalOf(request: GuardedRequest, verifier: AccessTokenVerifier): Promise<EntraPrincipal> {
  const known = knownPrincipalOf(request, verifier);
  if (known) return known;
  const token = bearerTokenFrom(request.headers.authorization);
  if (!token) throw new MissingTokenError();
  return verifier.verify(token);
}

/**
 * The same, synchronously, when nothing needs validating: this module's principal on the request, or the principal of
 * a bearer token the verifier accepted before. Undefined otherwise (then `principalOf` validates).
 */
export function knownPrincipalOf(request: GuardedRequest, verifier: AccessTokenVerifier): EntraPrincipal | undefined {
  if (verifier.isOwnPrincipal(request.user)) return request.user;
  const credentials = bearerCredentialsOf(request.headers.authorization);
  return credentials === undefined ? undefined : verifier.rememberedPrincipal(credentials);
}
