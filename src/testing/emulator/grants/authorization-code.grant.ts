import { createHash } from 'node:crypto';
import { entraErrors } from '../entra-errors.js';
import type { GrantHandler } from '../services.js';
import { redeemUserGrant } from '../user-tokens.js';

/**
 * Redeems an authorization code: one use only, same client and redirect URI, and the PKCE verifier when the authorize
 * request carried a challenge (S256 or plain). A code without a challenge (a confidential web app may omit PKCE) needs
 * no verifier.
 */
export const authorizationCodeGrant: GrantHandler = async (request, services) => {
  const { params, client } = request;
  const code = params.get('code');
  if (!code) throw entraErrors.missingParameter('code');
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) throw entraErrors.missingParameter('redirect_uri');
  const verifier = params.get('code_verifier');

  const record = services.grants.redeemCode(code);
  if (record === 'unknown') throw entraErrors.codeInvalid();
  if (record === 'redeemed') throw entraErrors.codeRedeemed();
  if (record.clientId !== client.clientId) throw entraErrors.codeForAnotherClient();
  if (record.redirectUri !== redirectUri) throw entraErrors.redirectUriMismatch(client.clientId);
  if (record.codeChallenge !== undefined) {
    if (!verifier) throw entraErrors.missingParameter('code_verifier');
    const derived = record.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
    if (derived !== record.codeChallenge) throw entraErrors.pkceMismatch();
  }

  return redeemUserGrant(services, request, record, { defaultScope: record.scope, nonce: record.nonce });
};
