import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
// The full GCM tag. Without a fixed length Node accepts any truncation down to 4 bytes, and a short tag is far easier
// to forge (NIST SP 800-38D, section 5.2.1.2).
const TAG_BYTES = 16;
const FORMAT_VERSION = 'v1';

interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Reads a 32-byte key given as base64 (standard or url-safe) or hex; undefined when it is neither. */
export function parseEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === KEY_BYTES ? bytes : undefined;
  }
  return undefined;
}

/**
 * AES-256-GCM for cache values at rest. The first key encrypts, every key decrypts (rotation: put the new key first,
 * keep the old ones until their entries have expired). Each value names its key by an id derived from the key, and
 * is bound to its cache key as additional authenticated data, so a value copied under another key does not decrypt.
 */
export class TokenEncryption {
  private readonly keys: EncryptionKey[];

  /** `keys` are already validated 32-byte keys, newest first. */
  constructor(keys: Buffer[]) {
    if (keys.length === 0 || keys.some((key) => key.length !== KEY_BYTES)) throw new RangeError('TokenEncryption needs 32-byte keys');
    this.keys = keys.map((key) => ({ key, id: createHash('sha256').update(key).digest('base64url').slice(0, 8) }));
  }

  encrypt(plaintext: string, associatedData: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT_VERSION, id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plaintext, or undefined when the value is malformed, under an unknown key, tampered with, or moved. */
  decrypt(value: string, associatedData: string): string | undefined {
    const [version, id, iv, ciphertext, tag] = value.split('.');
    if (version !== FORMAT_VERSION || !iv || !ciphertext || !tag) return undefined;
    const entry = this.keys.find((candidate) => candidate.id === id);
    if (!entry) return undefined;
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
