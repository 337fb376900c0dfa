// The emulator's one door to jose: signing the tokens it issues, and checking the JWTs clients present to it
// (user assertions for On-Behalf-Of, client assertions for certificate credentials).
import { createHash, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';

export type JwtClaims = Record<string, unknown>;
export type JwtHeader = Record<string, unknown> & { alg?: string; kid?: string; typ?: string };

export async function signJwt(header: JwtHeader & { alg: string }, claims: JwtClaims, privateKey: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(privateKey);
}

function hashedNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Signs the way Microsoft Graph's tokens are signed: over a header whose `nonce` is the base64url SHA-256 of the
 * nonce sent, so the token as sent fails any standard signature check. Only the resource that knows to hash the
 * nonce first (Graph) can verify it. Described in
 * https://github.com/AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet/issues/609.
 */
export async function signJwtWithHashedNonce(header: JwtHeader & { alg: string; nonce?: unknown }, claims: JwtClaims, privateKey: KeyObject): Promise<string> {
  if (typeof header.nonce !== 'string') return signJwt(header, claims, privateKey);
  const signed = await signJwt({ ...header, nonce: hashedNonce(header.nonce) }, claims, privateKey);
  const [, payload, signature] = signed.split('.');
  return `${encodeSegment(header)}.${payload}.${signature}`;
}

/** Whether a Graph-style token (header `nonce` hashed before signing) verifies with `publicKey`. */
export async function hasValidHashedNonceSignature(token: string, publicKey: KeyObject): Promise<boolean> {
  const decoded = decodeUnverified(token);
  if (!decoded || typeof decoded.header.nonce !== 'string') return false;
  const [, payload, signature] = token.split('.');
  const rebuilt = `${encodeSegment({ ...decoded.header, nonce: hashedNonce(decoded.header.nonce) })}.${payload}.${signature}`;
  return hasValidSignature(rebuilt, publicKey, ['RS256']);
}

/** Header and claims of a compact JWT without checking anything, or undefined when it is not one. */
export function decodeUnverified(token: string): { header: JwtHeader; claims: JwtClaims } | undefined {
  try {
    return { header: decodeProtectedHeader(token) as JwtHeader, claims: decodeJwt(token) as JwtClaims };
  } catch {
    return undefined;
  }
}

/** Whether the signature of `token` verifies with `publicKey` under one of `algorithms`. */
export async function hasValidSignature(token: string, publicKey: KeyObject, algorithms: string[]): Promise<boolean> {
  try {
    await compactVerify(token, publicKey, { algorithms });
    return true;
  } catch {
    return false;
  }
}
