import { AuthError, InteractionRequiredAuthError, type ConfidentialClientApplication } from '@azure/msal-node';

/** The session has no usable sign-in: no account, or Entra refused to renew its tokens. The user signs in again. */
export class SignInRequired extends Error {
  constructor(reason: string) {
    super(`sign-in required: ${reason}`);
    this.name = 'SignInRequired';
  }
}

/**
 * What Entra (through MSAL) answers when only a new interactive sign-in helps: MSAL's own verdict, or the refresh token
 * refused (`invalid_grant`: expired, revoked, AADSTS50173 after a password change) or absent. Anything else (Entra
 * unreachable, a 5xx) is not the user's doing and must not send them to the sign-in page.
 */
const SIGN_IN_AGAIN = new Set(['invalid_grant', 'no_tokens_found', 'refresh_token_expired', 'no_account_in_silent_request']);

/**
 * The tasks API's access token for the signed-in account, from MSAL's token cache: MSAL renews it with the refresh
 * token when it expires (or is about to: 5 minutes early) and `forceRefresh` renews it even though MSAL's clock says it
 * is still valid, for when the API refused it.
 */
export async function tasksApiToken(msal: ConfidentialClientApplication, homeAccountId: string | undefined, scopes: string[], forceRefresh = false): Promise<string> {
  const account = homeAccountId ? await msal.getTokenCache().getAccountByHomeId(homeAccountId) : null;
  if (!account) throw new SignInRequired('no account in this session');
  try {
    const result = await msal.acquireTokenSilent({ account, scopes, forceRefresh });
    if (!result?.accessToken) throw new SignInRequired('no token in the answer');
    return result.accessToken;
  } catch (error) {
    if (error instanceof InteractionRequiredAuthError || (error instanceof AuthError && SIGN_IN_AGAIN.has(error.errorCode))) {
      throw new SignInRequired(error.errorCode);
    }
    throw error;
  }
}
