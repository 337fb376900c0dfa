// Shared by the msal-node integration specs: real `@azure/msal-node` pointed at the emulator through nothing but
// its authority, `knownAuthorities` and `networkClient` (no TLS switches, no process-wide CA).
import {
  AuthError,
  ConfidentialClientApplication,
  type INetworkModule,
  type JsonCache,
  type NetworkRequestOptions,
  type NetworkResponse,
  type NodeAuthOptions,
} from '@azure/msal-node';
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { EntraEmulator } from '../../src/testing/index.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How the client proves who it is: a secret, or a certificate msal signs a client assertion with. */
export type ClientCredential = Required<Pick<NodeAuthOptions, 'clientSecret'>> | Required<Pick<NodeAuthOptions, 'clientCertificate'>>;

export interface ClientOptions {
  /** Client id; the middle-tier API's by default. */
  clientId?: string;
  /** Secret or certificate; the middle tier's secret by default. */
  credential?: ClientCredential;
  /** A tenant id for the authority; the primary tenant by default. */
  tenant?: string;
  networkClient?: INetworkModule;
}

/** A fresh msal client, so that neither msal's token cache nor its local throttling leaks from one test to the next. */
export function confidentialClient(entra: EntraEmulator, options: ClientOptions = {}): ConfidentialClientApplication {
  const d = entra.defaults;
  return new ConfidentialClientApplication({
    auth: {
      clientId: options.clientId ?? d.apps.middleTierApi.app.clientId,
      ...(options.credential ?? { clientSecret: d.apps.middleTierApi.clientSecret }),
      authority: entra.authority(options.tenant),
      knownAuthorities: [entra.knownAuthority],
    },
    system: { networkClient: options.networkClient ?? entra.networkClient },
  });
}

/**
 * The middle tier on its certificate, as msal names it by thumbprint: SHA-1 (msal signs RS256 with `x5t`), or SHA-256
 * with the chain in `x5c` (PS256 with `x5t#S256`). Returns the msal client and a recorder of what it POSTed.
 */
export function middleTierOnCertificate(entra: EntraEmulator, thumbprint: 'sha1' | 'sha256+x5c'): { msal: ConfidentialClientApplication; network: RecordingNetworkClient } {
  const { certificate } = entra.defaults.apps.middleTierApi;
  const clientCertificate =
    thumbprint === 'sha1'
      ? { thumbprint: certificate.thumbprintSha1Hex, privateKey: certificate.privateKeyPem }
      : { thumbprintSha256: certificate.thumbprintSha256Hex, privateKey: certificate.privateKeyPem, x5c: certificate.certificatePem };
  const network = recordingNetworkClient(entra.networkClient);
  return { msal: confidentialClient(entra, { credential: { clientCertificate }, networkClient: network }), network };
}

/** What msal put on the wire: the form fields of each POST it sent (to read the client assertion msal signed). */
export interface RecordingNetworkClient extends INetworkModule {
  readonly posts: URLSearchParams[];
}

/** Wraps the emulator's network client, recording POST bodies and passing everything through unchanged. */
export function recordingNetworkClient(inner: INetworkModule): RecordingNetworkClient {
  const posts: URLSearchParams[] = [];
  return {
    posts,
    sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
      return inner.sendGetRequestAsync<T>(url, options, timeout);
    },
    sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
      posts.push(new URLSearchParams(options?.body ?? ''));
      return inner.sendPostRequestAsync<T>(url, options);
    },
  };
}

/** The msal error a call rejected with; fails the test when the call succeeded or threw something that is not msal's. */
export async function rejectionOf(call: Promise<unknown>): Promise<AuthError> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error(`Expected msal to reject, but it resolved with ${JSON.stringify(outcome)?.slice(0, 200)}`);
}

/**
 * The AADSTS number msal copied from `error_codes[0]`. msal declares `errorNo` as a string, but it passes the JSON
 * value through, and Entra sends numbers; String() compares both forms.
 */
export function aadstsOf(error: AuthError): string | undefined {
  const errorNo = (error as AuthError & { errorNo?: unknown }).errorNo;
  return errorNo === undefined ? undefined : String(errorNo);
}

/** The raw `errorNo` value, to pin down its runtime type. */
export function rawErrorNo(error: AuthError): unknown {
  return (error as AuthError & { errorNo?: unknown }).errorNo;
}

export interface EntraAccessTokenClaims extends JWTPayload {
  aud: string;
  azp?: string;
  azpacr?: string;
  oid: string;
  tid: string;
  sub: string;
  scp?: string;
  roles?: string[];
  amr?: string[];
  idtyp?: string;
  idp?: string;
  acct?: number;
  ver: string;
  nonce?: string;
  preferred_username?: string;
}

export function claimsOf(token: string): EntraAccessTokenClaims {
  return decodeJwt(token) as EntraAccessTokenClaims;
}

export function headerOf(token: string): ProtectedHeaderParameters {
  return decodeProtectedHeader(token);
}

/** msal's in-memory cache as it serialises it (the only public way to see its entries and refresh tokens). */
export function serializedCache(client: ConfidentialClientApplication): JsonCache {
  return JSON.parse(client.getTokenCache().serialize()) as JsonCache;
}

/** A hex thumbprint as the base64url value of the `x5t` / `x5t#S256` JOSE header. */
export function hexToBase64Url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** Token requests the emulator received since `since` (a count taken earlier from `entra.tokenRequests()`). */
export function tokenRequestsSince(entra: EntraEmulator, since: number): ReturnType<EntraEmulator['tokenRequests']> {
  return entra.tokenRequests().slice(since);
}
