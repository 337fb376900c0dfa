import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { bearerTokenFrom } from '../auth/bearer-token.js';
import { accessTokenOf, type EntraPrincipal } from '../auth/entra-principal.js';
import { MissingTokenError } from '../errors/obo-errors.js';

export interface RequestWithUser {
  headers: Record<string, string | string[] | undefined>;
  user?: unknown;
}

/**
 * The validated caller of a request: the principal `OboAuthGuard` attached, or (on a route without the guard, or
 * behind another guard) the bearer token validated here.
 */
export async function principalOf(request: RequestWithUser, verifier: AccessTokenVerifier): Promise<EntraPrincipal> {
  const attached = request.user as EntraPrincipal | undefined;
  if (attached && typeof attached === 'object' && accessTokenOf(attached)) return attached;
  const token = bearerTokenFrom(request.headers.authorization);
  if (!token) throw new MissingTokenError();
  return verifier.verify(token);
}
