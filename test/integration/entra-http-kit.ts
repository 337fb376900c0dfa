// Shared by the raw-HTTP integration specs (emulator-http, jose-verification): what a hand-written client needs to
// talk to the emulator without any OAuth library in between, so the specs see exactly what is on the wire.
import { createHash, randomBytes } from 'node:crypto';
import type { EntraEmulator } from '../../src/testing/index.js';


/** The body of every Entra error response (https://learn.microsoft.com/entra/identity-platform/reference-error-codes, "Handling error codes"). */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
  claims?: string;
}

/** The body of a successful token response. */
export interface TokenResponse {
  token_type: string;
  scope?: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A PKCE pair as RFC 7636 defines S256: challenge = base64url(sha256(verifier)). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** `/{tenant}/oauth2/v2.0/authorize?…`; an `undefined` value leaves the parameter out (for "missing X" tests). */
export function authorizeUrl(entra: EntraEmulator, tenant: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return `${entra.authorityHost}/${tenant}/oauth2/v2.0/authorize?${query.toString()}`;
}

export function tokenEndpoint(entra: EntraEmulator, tenant: string): string {
  return `${entra.authorityHost}/${tenant}/oauth2/v2.0/token`;
}

/** A form POST, as every OAuth client sends to the token endpoint; redirects are reported, never followed. */
export function postForm(entra: EntraEmulator, url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return entra.fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A token request that must succeed; the error body is part of the failure message when it does not. */
export async function requestTokens(entra: EntraEmulator, tenant: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
  const response = await postForm(entra, tokenEndpoint(entra, tenant), fields, headers);
  const body = (await response.json()) as TokenResponse | EntraErrorBody;
  if (response.status !== 200) throw new Error(`Token request failed with HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body as TokenResponse;
}

/** Checks every member Entra puts in an error body, and that the AADSTS number leads the description. */
export function expectEntraError(body: EntraErrorBody, error: string, aadsts: number, correlationId?: string): void {
  expect(body.error).toBe(error);
  expect(body.error_codes).toEqual([aadsts]);
  expect(body.error_description).toMatch(new RegExp(`^AADSTS${aadsts}: `));
  expect(body.error_description).toContain(`Trace ID: ${body.trace_id}`);
  expect(body.error_description).toContain(`Correlation ID: ${body.correlation_id}`);
  expect(body.error_description).toContain(`Timestamp: ${body.timestamp}`);
  expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  expect(body.trace_id).toMatch(GUID);
  if (correlationId === undefined) expect(body.correlation_id).toMatch(GUID);
  else expect(body.correlation_id).toBe(correlationId);
  expect(body.error_uri).toMatch(new RegExp(`/error\\?code=${aadsts}$`));
}

/** Reads an error response: its status, and its body as an Entra error. */
export async function entraErrorOf(response: Response): Promise<{ status: number; body: EntraErrorBody }> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, body: (await response.json()) as EntraErrorBody };
}

/** The `client_info` Entra returns: base64url JSON of the account's object id and tenant. */
export function decodeClientInfo(clientInfo: string): { uid: string; utid: string } {
  return JSON.parse(Buffer.from(clientInfo, 'base64url').toString('utf8')) as { uid: string; utid: string };
}
