// An attacker's toolbox for the access-token validation e2e suite: tokens that copy a genuine token's claims but are
// signed the wrong way, and a key server that a `jku` / `x5u` header could point a naive verifier at.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { base64url, CompactSign, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createSelfSignedCertificate } from '../../../src/testing/emulator/x509-certificates.js';
import type { EntraEmulator } from '../../../src/testing/index.js';

/** One key of the emulator's JWKS, as any client (or attacker) can download it. */
export interface PublishedJwk {
  kty: 'RSA';
  kid: string;
  n: string;
  e: string;
  x5c: string[];
}

/** The signing keys `tenantId` publishes, fetched the way anyone on the network could. */
export async function fetchPublishedKeys(entra: EntraEmulator, tenantId: string): Promise<PublishedJwk[]> {
  const response = await entra.fetch(`${entra.authorityHost}/${tenantId}/discovery/v2.0/keys`);
  if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
  const body = (await response.json()) as { keys: PublishedJwk[] };
  return body.keys;
}

/** The public key bytes an HS256 key-confusion attack feeds to HMAC, in the forms real exploits have used. */
export function publicKeyMaterials(jwk: PublishedJwk): Record<'spki PEM' | 'certificate PEM' | 'modulus (n) text' | 'modulus (n) bytes', Uint8Array> {
  const spkiPem = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  const certificateBase64 = jwk.x5c[0] ?? '';
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${certificateBase64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  const encoder = new TextEncoder();
  return {
    'spki PEM': encoder.encode(spkiPem),
    'certificate PEM': encoder.encode(certificatePem),
    'modulus (n) text': encoder.encode(jwk.n),
    'modulus (n) bytes': base64url.decode(jwk.n),
  };
}

/** The claims of a genuine token, so a forgery differs from the real thing only in how it is signed. */
export function claimsOf(token: string): Record<string, unknown> {
  return decodeJwt(token) as Record<string, unknown>;
}

export function headerOf(token: string): Record<string, unknown> {
  return decodeProtectedHeader(token) as Record<string, unknown>;
}

/**
 * An unsigned JWT (`alg: none`, or a spelling of it given in `alg`): header and payload with an empty signature,
 * built by hand because no JOSE library will produce one.
 */
export function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown>, alg = 'none'): string {
  const encode = (value: Record<string, unknown>) => base64url.encode(JSON.stringify(value));
  return `${encode({ ...header, alg })}.${encode(claims)}.`;
}

/** A compact JWS over `claims` with exactly `header`, signed by `key` (an RSA private key or an HMAC secret). */
export function signToken(header: Record<string, unknown> & { alg: string }, claims: Record<string, unknown>, key: CryptoKey | KeyObject | Uint8Array): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key);
}

/** An RSA key pair the identity provider never saw: what an attacker signs with. */
export interface AttackerKey {
  privateKey: CryptoKey;
  publicJwk: JWK & { kid: string };
}

export async function generateAttackerKey(kid = 'attacker-key'): Promise<AttackerKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, publicJwk };
}

/** A self-signed certificate and its key: what an attacker would put in an `x5c` header. */
export async function generateAttackerCertificate(): Promise<{ x5c: string[]; privateKey: KeyObject }> {
  const certificate = await createSelfSignedCertificate('login.attacker.example');
  return { x5c: [certificate.certificateDerBase64], privateKey: certificate.privateKey };
}

/** A plain-HTTP JWKS server on loopback that records every request, to prove a verifier never followed `jku`/`x5u`. */
export interface KeyServer {
  url: string;
  readonly requests: readonly string[];
  close(): Promise<void>;
}

export async function startKeyServer(keys: JWK[]): Promise<KeyServer> {
  const requests: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push(`${request.method ?? 'GET'} ${request.url ?? '/'}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A `fetch` over the emulator's that rewrites the v2 key set so every key names `keyIssuer` as the issuer it signs for
 * (with `{tenantid}` kept as a template when given): a key set like the one of a forged-key incident, where a key
 * published for another tenant (the consumers tenant) signed tokens for ours. Everything else passes through.
 */
export function fetchWithKeysPublishedFor(entra: EntraEmulator, keyIssuer: string): typeof fetch {
  return async (input, init) => {
    const response = await entra.fetch(input, init);
    if (!/\/discovery\/v2\.0\/keys$/.test(new URL(String(input instanceof Request ? input.url : input)).pathname) || !response.ok) return response;
    const body = (await response.json()) as { keys: Array<Record<string, unknown>> };
    return Response.json({ keys: body.keys.map((key) => ({ ...key, issuer: keyIssuer })) });
  };
}
