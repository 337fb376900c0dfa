// The one file that imports @peculiar/x509: node:crypto makes keys but cannot issue X.509 certificates, which the
// emulator needs for its TLS server, for the `x5c` of its signing keys and for app credentials. It is an optional peer
// (only the test kit needs it, so production installs do not pull it) and is loaded on first use, with a message that
// says how to install it when it is missing.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCallback, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type * as X509 from '@peculiar/x509';

type X509Module = typeof X509;

const generateKeyPair = promisify(generateKeyPairCallback);

export const MISSING_X509_MESSAGE = 'nestjs-entra-obo/testing needs @peculiar/x509: npm i -D @peculiar/x509';

/** Whether an import failed because the package itself is not installed (not because something inside it failed). */
function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(packageName);
}

/**
 * Loads @peculiar/x509 (and reflect-metadata, which it needs) through `importModule`; a missing package becomes an
 * Error naming the install command. Exported for its test; the emulator uses `peculiarX509()`.
 */
export async function loadX509(importModule: () => Promise<X509Module> = () => import('@peculiar/x509')): Promise<X509Module> {
  try {
    await import('reflect-metadata');
    const x509 = await importModule();
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  } catch (error) {
    if (isMissingPackage(error, '@peculiar/x509')) throw new Error(MISSING_X509_MESSAGE, { cause: error });
    throw error;
  }
}

let loading: Promise<X509Module> | undefined;

/** The library, loaded once per process. A failed load is not remembered, so installing it and retrying works. */
function peculiarX509(): Promise<X509Module> {
  loading ??= loadX509().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

const RSA_SIGNING: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};
const CERTIFICATE_VALIDITY_MS = 2 * 365 * 24 * 3600 * 1000;

/** A certificate with its RSA key pair, in every form the emulator and its clients need. */
export interface GeneratedCertificate {
  certificatePem: string;
  /** DER bytes of the certificate, base64 (standard alphabet), as JWKS `x5c` carries it. */
  certificateDerBase64: string;
  privateKeyPem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SHA-1 of the DER certificate, upper-case hex, as the Azure portal shows it (and msal-node's `thumbprint`). */
  thumbprintSha1Hex: string;
  /** SHA-256 of the DER certificate, upper-case hex (msal-node's `thumbprintSha256`). */
  thumbprintSha256Hex: string;
  /** base64url SHA-1 thumbprint: the JOSE `x5t` header, and Entra's `kid` for its signing keys. */
  x5t: string;
  /** base64url SHA-256 thumbprint: the JOSE `x5t#S256` header. */
  x5tS256: string;
}

/** An issuing authority whose certificate a client pins; it signs the emulator's TLS certificate. */
export interface CertificateAuthority {
  certificatePem: string;
  keys: CryptoKeyPair;
  name: string;
  /** PKCS#8 PEM of the CA's key, to keep it in a data dir. */
  privateKeyPem: string;
}

function notValidBefore(): Date {
  // Back-dated so that a client whose clock is a little behind still accepts the certificate.
  return new Date(Date.now() - 24 * 3600 * 1000);
}

/** A certificate and its private key in every form the emulator uses, from their PEMs (node:crypto alone). */
export function describeCertificate(certificatePem: string, privateKeyPem: string): GeneratedCertificate {
  const der = new X509Certificate(certificatePem).raw;
  const privateKey = createPrivateKey(privateKeyPem);
  const sha1 = createHash('sha1').update(der).digest();
  const sha256 = createHash('sha256').update(der).digest();
  return {
    certificatePem,
    certificateDerBase64: der.toString('base64'),
    privateKeyPem,
    privateKey,
    publicKey: createPublicKey(privateKey),
    thumbprintSha1Hex: sha1.toString('hex').toUpperCase(),
    thumbprintSha256Hex: sha256.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: sha256.toString('base64url'),
  };
}

function describe(certificate: X509.X509Certificate, privateKey: KeyObject): GeneratedCertificate {
  return describeCertificate(certificate.toString('pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
}

/** A node:crypto RSA private key as the WebCrypto pair @peculiar/x509 signs with. */
async function asCryptoKeyPair(privateKey: KeyObject): Promise<CryptoKeyPair> {
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA_SIGNING, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, RSA_SIGNING, true, ['verify']),
  } as CryptoKeyPair;
}

/** A new RSA key, generated on libuv's thread pool, in both forms. */
async function freshKey(): Promise<{ privateKey: KeyObject; keys: CryptoKeyPair }> {
  const { privateKey } = await generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  return { privateKey, keys: await asCryptoKeyPair(privateKey) };
}

/** A CA from its certificate and key PEMs, as a data dir or the key cache keeps it. */
export async function certificateAuthorityFromPem(certificatePem: string, privateKeyPem: string): Promise<CertificateAuthority> {
  return { certificatePem, keys: await asCryptoKeyPair(createPrivateKey(privateKeyPem)), name: new X509Certificate(certificatePem).subject.replace(/\n/g, ', '), privateKeyPem };
}

/** A self-signed RSA certificate, as a developer makes for an app credential or as Entra publishes in `x5c`. */
export async function createSelfSignedCertificate(commonName: string): Promise<GeneratedCertificate> {
  const x509 = await peculiarX509();
  const { privateKey, keys } = await freshKey();
  const notBefore = notValidBefore();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CERTIFICATE_VALIDITY_MS),
    signingAlgorithm: RSA_SIGNING,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return describe(certificate, privateKey);
}

/** Reads the thumbprints of a certificate a user brings (PEM). */
export function thumbprintsOf(certificatePem: string): { x5t: string; x5tS256: string; publicKey: KeyObject } {
  const der = new X509Certificate(certificatePem).raw;
  return {
    x5t: createHash('sha1').update(der).digest('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    publicKey: createPublicKey(certificatePem),
  };
}

export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const x509 = await peculiarX509();
  const { privateKey, keys } = await freshKey();
  const notBefore = notValidBefore();
  const name = `CN=${commonName}`;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CERTIFICATE_VALIDITY_MS),
    signingAlgorithm: RSA_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: certificate.toString('pem'), keys, name, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** A TLS server certificate for the given DNS names and IP addresses, signed by `authority`. */
export async function issueServerCertificate(
  authority: CertificateAuthority,
  names: { dns: string[]; ip: string[] },
): Promise<GeneratedCertificate> {
  const x509 = await peculiarX509();
  const { privateKey, keys } = await freshKey();
  const notBefore = notValidBefore();
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${names.dns[0] ?? names.ip[0] ?? 'localhost'}`,
    issuer: authority.name,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CERTIFICATE_VALIDITY_MS),
    signingAlgorithm: RSA_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ip.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(authority.keys.publicKey),
    ],
  });
  return describe(certificate, privateKey);
}
