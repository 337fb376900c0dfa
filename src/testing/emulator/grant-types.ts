/**
 * The `grant_type` values of the two token requests a web API makes, as the emulator records them
 * (`emulator.tokenRequests({ grantType })`) and as faults match them. On-Behalf-Of is RFC 7523's JWT bearer grant:
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
 */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow */
export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';
