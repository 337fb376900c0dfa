import { ConfidentialClientApplication } from '@azure/msal-node';
import { refreshTokenIn } from './msal-cache-refresh-token.js';

// The cache layout is MSAL's shared schema as msal-node serializes it (src/cache/serializer/SerializerTypes.ts,
// `JsonCache`: sections Account, IdToken, AccessToken, RefreshToken, AppMetadata; a refresh token's `secret`).
const CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

function clientWithCache(refreshTokens: Record<string, { secret: string }>): ConfidentialClientApplication {
  const client = new ConfidentialClientApplication({ auth: { clientId: CLIENT_ID, clientSecret: 'not-used' } });
  const entities = Object.fromEntries(
    Object.entries(refreshTokens).map(([key, { secret }]) => [key, { home_account_id: 'uid.utid', environment: 'login.microsoftonline.com', credential_type: 'RefreshToken', client_id: CLIENT_ID, secret }]),
  );
  client.getTokenCache().deserialize(JSON.stringify({ Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: entities, AppMetadata: {} }));
  return client;
}

describe('refreshTokenIn', () => {
  it("reads the one refresh token of a client's cache", () => {
    expect(refreshTokenIn(clientWithCache({ 'uid.utid-login.microsoftonline.com-refreshtoken-client--': { secret: 'the-refresh-token' } }))).toBe('the-refresh-token');
  });

  it('is undefined when Entra sent none', () => {
    expect(refreshTokenIn(clientWithCache({}))).toBeUndefined();
    expect(refreshTokenIn(new ConfidentialClientApplication({ auth: { clientId: CLIENT_ID, clientSecret: 'not-used' } }))).toBeUndefined();
  });

  it('refuses to guess between two', () => {
    const client = clientWithCache({ 'a-login.microsoftonline.com-refreshtoken-client--': { secret: 'one' }, 'b-login.microsoftonline.com-refreshtoken-client--': { secret: 'two' } });
    expect(() => refreshTokenIn(client)).toThrow(/more than one refresh token/);
  });
});
