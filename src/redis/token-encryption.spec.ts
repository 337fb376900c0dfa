import { randomBytes } from 'node:crypto';
import { parseEncryptionKey, TokenEncryption } from './token-encryption.js';

describe('parseEncryptionKey', () => {
  it('reads 32 bytes as base64, base64url or hex', () => {
    const key = randomBytes(32);
    expect(parseEncryptionKey(key.toString('base64'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('base64url'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('hex'))).toEqual(key);
    expect(parseEncryptionKey(` ${key.toString('base64')}\n`)).toEqual(key);
  });

  it('refuses other lengths and other text', () => {
    expect(parseEncryptionKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(parseEncryptionKey(randomBytes(31).toString('hex'))).toBeUndefined();
    expect(parseEncryptionKey('a passphrase is not a key at all, really no')).toBeUndefined();
    expect(parseEncryptionKey('')).toBeUndefined();
  });
});

describe('TokenEncryption', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('round-trips, with a fresh IV each time and no plaintext in the value', () => {
    const encryption = new TokenEncryption([newKey]);
    const first = encryption.encrypt('eyJ.secret', 'cache-key');
    const second = encryption.encrypt('eyJ.secret', 'cache-key');
    expect(first).not.toBe(second);
    expect(first).not.toContain('eyJ.secret');
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(encryption.decrypt(first, 'cache-key')).toBe('eyJ.secret');
  });

  it('binds the value to its cache key', () => {
    const encryption = new TokenEncryption([newKey]);
    expect(encryption.decrypt(encryption.encrypt('value', 'key-a'), 'key-b')).toBeUndefined();
  });

  it('decrypts with any listed key and encrypts with the first', () => {
    const before = new TokenEncryption([oldKey]).encrypt('old value', 'k');
    const rotated = new TokenEncryption([newKey, oldKey]);
    expect(rotated.decrypt(before, 'k')).toBe('old value');
    const after = rotated.encrypt('new value', 'k');
    expect(new TokenEncryption([newKey]).decrypt(after, 'k')).toBe('new value');
    expect(new TokenEncryption([oldKey]).decrypt(after, 'k')).toBeUndefined();
  });

  it('answers undefined for tampered or malformed values', () => {
    const encryption = new TokenEncryption([newKey]);
    const value = encryption.encrypt('value', 'k');
    const parts = value.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(encryption.decrypt(parts.join('.'), 'k')).toBeUndefined();
    expect(encryption.decrypt('garbage', 'k')).toBeUndefined();
    expect(encryption.decrypt('v2.x.y.z.w', 'k')).toBeUndefined();
  });

  it('refuses a truncated authentication tag: only full 16-byte tags are accepted', () => {
    // GCM tags are a prefix of the full tag, so without a fixed tag length a 4-byte prefix would authenticate; NIST
    // SP 800-38D section 5.2.1.2 and Node's DEP0182 ask for the full length.
    const encryption = new TokenEncryption([newKey]);
    const parts = encryption.encrypt('value', 'k').split('.');
    const fullTag = Buffer.from(parts[4]!, 'base64url');
    expect(fullTag).toHaveLength(16);
    for (const length of [4, 8, 12, 15]) {
      parts[4] = fullTag.subarray(0, length).toString('base64url');
      expect(encryption.decrypt(parts.join('.'), 'k')).toBeUndefined();
    }
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new TokenEncryption([])).toThrow(RangeError);
    expect(() => new TokenEncryption([randomBytes(16)])).toThrow(RangeError);
  });
});
