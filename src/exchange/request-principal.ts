import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { bearerTokenFrom } from '../auth/bearer-token.js';
import type { EntraPrincipal } from '../auth/entra-principal.js';
import { MissingTokenError } from '../errors/obo-errors.js';

export interface RequestWithUser {
  headers: Record<string, string | string[] | undefined>;
  user?: unknown;
}

/**
 * The validated caller of a request: the principal this module's `OboAuthGuard` attached, or (behind another guard,
 * such as a passport strategy with its own settings) the bearer token validated here, under this module's settings.
 */
export async function principalOf(request: RequestWithUser, verifier: AccessTokenVerifier): Promise<EntraPrincipal> {
  if (verifier.isOwnPrincipal(request.user)) return request.user;
  const token = bearerTokenFrom(request.headers.authorization);
  if (!token) throw new MissingTokenError();
  return verifier.verify(token);
}
