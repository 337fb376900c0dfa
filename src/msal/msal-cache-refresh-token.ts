import type { ConfidentialClientApplication, JsonCache } from '@azure/msal-node';

/**
 * The refresh token a short-lived client's cache holds after its one request, or undefined when Entra sent none.
 * msal-node's `AuthenticationResult` does not carry the refresh token; its cache does, and `TokenCache.serialize()`
 * (public, the persistence plugins' API) writes it in MSAL's shared cache schema: a `RefreshToken` section of
 * entities whose `secret` is the token (msal-node `src/cache/serializer/SerializerTypes.ts`, `JsonCache`). The client
 * made one request, so there is at most one; more would mean a client used twice, which is refused rather than guessed.
 */
export function refreshTokenIn(client: ConfidentialClientApplication): string | undefined {
  const cache = JSON.parse(client.getTokenCache().serialize()) as Partial<JsonCache>;
  const secrets = Object.values(cache.RefreshToken ?? {})
    .map((entity) => entity?.secret)
    .filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
  if (secrets.length > 1) throw new RangeError('refreshTokenIn: the client cache holds more than one refresh token');
  return secrets[0];
}
