import { timingSafeEqual } from 'node:crypto';
import type { EmulatorClock } from './clock.js';
import type { EmulatorApp } from './directory.js';
import { entraErrors } from './entra-errors.js';
import { decodeUnverified, hasValidSignature } from './jwt.js';
import type { ClientAuthenticationMethod } from './tokens.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra tolerates a few minutes of clock difference on client assertions; msal-node's `nbf` can lead `iat` by 1 s. */
const CLIENT_ASSERTION_SKEW_SEC = 300;

function secretsEqual(presented: string, registered: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(registered);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface ClientCredentialInput {
  clientSecret: string | undefined;
  clientAssertionType: string | undefined;
  clientAssertion: string | undefined;
}

/**
 * Checks how the client proved who it is: a registered secret (form post or HTTP Basic), or a JWT signed with a
 * registered certificate's key (`private_key_jwt`), whose `aud` must be one of this tenant's token endpoints; or,
 * where `allowPublic` says a public client may, nothing at all.
 */
export async function authenticateClient(
  app: EmulatorApp,
  input: ClientCredentialInput,
  context: { tokenEndpoints: string[]; clock: EmulatorClock; allowPublic?: boolean },
): Promise<ClientAuthenticationMethod> {
  if (input.clientAssertion !== undefined || input.clientAssertionType !== undefined) {
    if (input.clientAssertionType !== CLIENT_ASSERTION_TYPE) throw entraErrors.malformedRequest(`client_assertion_type must be '${CLIENT_ASSERTION_TYPE}'.`);
    if (!input.clientAssertion) throw entraErrors.missingParameter('client_assertion');
    await verifyClientAssertion(app, input.clientAssertion, context);
    return 'certificate';
  }
  if (input.clientSecret === undefined) {
    // A public client (mobile, desktop, or a code sent to a SPA redirect URI) has no credential to present.
    if (context.allowPublic) return 'public';
    throw entraErrors.missingClientCredential();
  }
  if (!app.secrets.some((secret) => secretsEqual(input.clientSecret!, secret))) throw entraErrors.wrongClientSecret(app.clientId);
  return 'secret';
}

async function verifyClientAssertion(
  app: EmulatorApp,
  assertion: string,
  context: { tokenEndpoints: string[]; clock: EmulatorClock },
): Promise<void> {
  const decoded = decodeUnverified(assertion);
  if (!decoded) throw entraErrors.badClientAssertion('The client assertion is not a JWT.');
  const { header, claims } = decoded;
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const certificate = app.certificates.find((candidate) => (x5t !== undefined && candidate.x5t === x5t) || (x5tS256 !== undefined && candidate.x5tS256 === x5tS256));
  if (!certificate) {
    throw entraErrors.badClientAssertion(`The key was not found. Thumbprint of key used by client: '${x5tS256 ?? x5t ?? 'none'}'. Please visit the Azure Portal to verify that the certificate is registered for app '${app.clientId}'.`);
  }
  if (!(await hasValidSignature(assertion, certificate.publicKey, ['RS256', 'PS256']))) {
    throw entraErrors.badClientAssertion('The signature is not valid for the registered certificate.');
  }
  if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
    throw entraErrors.clientAssertionClaims("The 'iss' and 'sub' claims of the client assertion must both be the client id.");
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((audience) => typeof audience === 'string' && context.tokenEndpoints.includes(audience))) {
    throw entraErrors.clientAssertionClaims("The 'aud' claim of the client assertion must be the token endpoint.");
  }
  const now = context.clock.nowSec();
  if (typeof claims.exp !== 'number' || claims.exp + CLIENT_ASSERTION_SKEW_SEC <= now) throw entraErrors.clientAssertionTime();
  if (typeof claims.nbf === 'number' && claims.nbf - CLIENT_ASSERTION_SKEW_SEC > now) throw entraErrors.clientAssertionTime();
}
