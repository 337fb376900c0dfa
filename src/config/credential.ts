import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { OboCredential } from './obo-module-options.js';
import type { Problems } from '../util/problems.js';

const CREDENTIAL_KINDS = ['clientSecret', 'clientCertificate', 'clientAssertion', 'federatedTokenFile'] as const;

/** The credential in the form the exchanger uses: keys loaded, thumbprints computed. */
export type ResolvedCredential =
  | { kind: 'secret'; clientSecret: string }
  | { kind: 'certificate'; privateKeyPem: string; thumbprintSha256: string; certificatePem?: string }
  | { kind: 'assertion'; getAssertion: () => Promise<string> }
  | { kind: 'federated'; tokenFile: string };

function isPem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

/** Reads a PEM given inline or as a file path; reports a problem (never the value) when it cannot. */
function loadPem(value: unknown, name: string, problems: Problems): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(`${name} must be a PEM string or the path of a PEM file`);
    return undefined;
  }
  if (isPem(value)) return value;
  if (!existsSync(value)) {
    problems.add(`${name}: no file at the given path, and the value is not PEM text`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch {
    problems.add(`${name}: the file cannot be read`);
    return undefined;
  }
  if (!isPem(text)) {
    problems.add(`${name}: the file does not hold PEM text`);
    return undefined;
  }
  return text;
}

/**
 * Checks the `credential` option and loads its key material (PEM text or files), adding a problem (never a value) to
 * `problems` for anything wrong.
 */
export function resolveCredential(credential: unknown, problems: Problems): ResolvedCredential | undefined {
  if (typeof credential !== 'object' || credential === null) {
    problems.add(`credential must be one of { clientSecret }, { clientCertificate }, { clientAssertion }, { federatedTokenFile }`);
    return undefined;
  }
  const given = CREDENTIAL_KINDS.filter((kind) => kind in credential);
  if (given.length !== 1) {
    problems.add(`credential must have exactly one of ${CREDENTIAL_KINDS.join(', ')}; got ${given.length === 0 ? 'none' : given.join(' and ')}`);
    return undefined;
  }
  const value = credential as Partial<Record<(typeof CREDENTIAL_KINDS)[number], unknown>> & OboCredential;
  if ('clientSecret' in value) {
    if (typeof value.clientSecret !== 'string' || value.clientSecret.length === 0) {
      problems.add('credential.clientSecret must be a non-empty string');
      return undefined;
    }
    return { kind: 'secret', clientSecret: value.clientSecret };
  }
  if ('clientCertificate' in value) {
    const certificate = value.clientCertificate as Record<string, unknown> | undefined;
    if (typeof certificate !== 'object' || certificate === null) {
      problems.add('credential.clientCertificate must be an object with privateKey and certificate (or thumbprintSha256)');
      return undefined;
    }
    const privateKeyPem = loadPem(certificate.privateKey, 'credential.clientCertificate.privateKey', problems);
    let privateKey: KeyObject | undefined;
    if (privateKeyPem) {
      try {
        privateKey = createPrivateKey(privateKeyPem);
      } catch {
        problems.add('credential.clientCertificate.privateKey is not a readable private key');
      }
    }
    let thumbprintSha256: string | undefined;
    let certificatePem: string | undefined;
    if (certificate.certificate !== undefined) {
      certificatePem = loadPem(certificate.certificate, 'credential.clientCertificate.certificate', problems);
      if (certificatePem) {
        try {
          const x509 = new X509Certificate(certificatePem);
          thumbprintSha256 = createHash('sha256').update(x509.raw).digest('hex').toUpperCase();
          if (privateKey && !x509.checkPrivateKey(privateKey)) {
            problems.add('credential.clientCertificate.privateKey does not belong to the certificate');
          }
        } catch {
          problems.add('credential.clientCertificate.certificate is not a readable X.509 certificate');
        }
      }
    } else if (typeof certificate.thumbprintSha256 === 'string' && /^[0-9a-f]{64}$/i.test(certificate.thumbprintSha256)) {
      thumbprintSha256 = certificate.thumbprintSha256.toUpperCase();
    } else {
      problems.add('credential.clientCertificate needs certificate (PEM or path) or thumbprintSha256 (64 hex characters)');
    }
    if (!privateKeyPem || !thumbprintSha256) return undefined;
    return { kind: 'certificate', privateKeyPem, thumbprintSha256, ...(certificatePem ? { certificatePem } : {}) };
  }
  if ('clientAssertion' in value) {
    const assertion = value.clientAssertion;
    if (typeof assertion === 'string' && assertion.length > 0) return { kind: 'assertion', getAssertion: async () => assertion };
    if (typeof assertion === 'function') return { kind: 'assertion', getAssertion: assertion as () => Promise<string> };
    problems.add('credential.clientAssertion must be a non-empty string or a function returning one');
    return undefined;
  }
  const tokenFile = value.federatedTokenFile;
  if (typeof tokenFile !== 'string' || !existsSync(tokenFile) || !statSync(tokenFile).isFile()) {
    problems.add('credential.federatedTokenFile must be the path of an existing file');
    return undefined;
  }
  return { kind: 'federated', tokenFile };
}
