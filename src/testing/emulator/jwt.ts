// The emulator's one door to jose: signing the tokens it issues, and checking the JWTs clients present to it
// (user assertions for On-Behalf-Of, client assertions for certificate credentials).
import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';

export type JwtClaims = Record<string, unknown>;
export type JwtHeader = Record<string, unknown> & { alg?: string; kid?: string; typ?: string };

export async function signJwt(header: JwtHeader & { alg: string }, claims: JwtClaims, privateKey: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(privateKey);
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
