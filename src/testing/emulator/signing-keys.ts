import type { KeyObject } from 'node:crypto';
import { createSelfSignedCertificate, type GeneratedCertificate } from './x509-certificates.js';

export interface SigningKey {
  /** Entra uses the certificate's base64url SHA-1 thumbprint as both `kid` and `x5t`. */
  readonly kid: string;
  readonly x5t: string;
  readonly certificateDerBase64: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface JsonWebKeySetEntry {
  kty: 'RSA';
  use: 'sig';
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
  issuer?: string;
}

/** The subject of the signing keys' certificates. */
const SIGNING_KEY_COMMON_NAME = 'accounts.emulator.local';

function signingKeyOf(certificate: GeneratedCertificate): SigningKey {
  return {
    kid: certificate.x5t,
    x5t: certificate.x5t,
    certificateDerBase64: certificate.certificateDerBase64,
    privateKey: certificate.privateKey,
    publicKey: certificate.publicKey,
  };
}

/**
 * The emulator's token-signing keys. One key signs; every published key verifies. Entra publishes several keys at
 * once, so the ring starts with two: a previous key that still verifies and the active one. Rotation adds a new
 * signing key and keeps the old ones published (as Entra does while it rolls keys) until they are retired.
 */
export class SigningKeyRing {
  private keys: SigningKey[] = [];

  /** @param makeCertificate where new keys come from: by default generated, in an emulator leased (key-pool.ts) */
  constructor(private readonly makeCertificate: (commonName: string) => Promise<GeneratedCertificate> = createSelfSignedCertificate) {}

  /** A ring of two new keys, or of the `kept` ones (a data dir's), the last of them signing. */
  static async create(kept?: readonly GeneratedCertificate[], makeCertificate = createSelfSignedCertificate): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(makeCertificate);
    if (kept && kept.length > 0) ring.keys = kept.map(signingKeyOf);
    else await Promise.all([ring.generate(), ring.generate()]);
    return ring;
  }

  get active(): SigningKey {
    const key = this.keys[this.keys.length - 1];
    if (!key) throw new Error('The signing key ring is empty');
    return key;
  }

  get published(): readonly SigningKey[] {
    return [...this.keys];
  }

  find(kid: string): SigningKey | undefined {
    return this.keys.find((key) => key.kid === kid);
  }

  /** Generates a new signing key and makes it the active one; the previous keys stay published. */
  async rotate(): Promise<SigningKey> {
    return this.generate();
  }

  /** Keys sign in the order they were published: the last one added is the active one. */
  private async generate(): Promise<SigningKey> {
    const key = signingKeyOf(await this.makeCertificate(SIGNING_KEY_COMMON_NAME));
    this.keys.push(key);
    return key;
  }

  /** Stops publishing a key: tokens it signed no longer verify anywhere. The active key cannot be retired. */
  retire(kid: string): void {
    if (kid === this.active.kid) throw new Error('retireSigningKey: the active signing key cannot be retired; rotate first');
    if (!this.find(kid)) throw new Error(`retireSigningKey: no published key with kid ${kid}`);
    this.keys = this.keys.filter((key) => key.kid !== kid);
  }

  /**
   * Remembers the published keys; the returned function publishes exactly those again, the last one signing. The
   * same keys (not new ones), so tokens and key sets fetched before `EntraEmulator.reset()` still verify after it.
   */
  checkpoint(): () => void {
    const keys = [...this.keys];
    return () => {
      this.keys = [...keys];
    };
  }

  jwks(issuer?: string): { keys: JsonWebKeySetEntry[] } {
    return {
      keys: this.keys.map((key) => {
        const jwk = key.publicKey.export({ format: 'jwk' });
        return {
          kty: 'RSA',
          use: 'sig',
          kid: key.kid,
          x5t: key.x5t,
          n: jwk.n!,
          e: jwk.e!,
          x5c: [key.certificateDerBase64],
          ...(issuer ? { issuer } : {}),
        };
      }),
    };
  }
}
