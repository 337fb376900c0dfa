import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import { SigningKeyRing, type SigningKey } from './signing-keys.js';
import { spkiOf } from './unit-fixtures.spec.fixtures.js';

describe('SigningKeyRing', () => {
  // Generating RSA keys is the slow part: the read-only tests share one ring (two keys, then a rotation); the one
  // test that retires a key builds its own.
  let ring: SigningKeyRing;
  let previous: SigningKey;
  let first: SigningKey;
  let second: SigningKey;

  beforeAll(async () => {
    ring = await SigningKeyRing.create();
    previous = ring.published[0]!;
    first = ring.active;
    second = await ring.rotate();
  });

  it('create() publishes two keys, as Entra publishes several at once; the last one signs; retire() stops publishing an older key', async () => {
    const own = await SigningKeyRing.create();
    const [older, original] = own.published;
    expect(own.published).toHaveLength(2);
    expect(older!.kid).not.toBe(original!.kid);
    expect(own.active).toBe(original);
    expect(own.find(older!.kid)).toBe(older);

    const replacement = await own.rotate();
    own.retire(original!.kid);
    expect(own.published).toEqual([older, replacement]);
    expect(own.find(original!.kid)).toBeUndefined();
    expect(own.active).toBe(replacement);
    expect(own.jwks().keys.map((key) => key.kid)).toEqual([older!.kid, replacement.kid]);
  });

  it('uses the base64url SHA-1 thumbprint of the certificate as both kid and x5t', () => {
    const der = Buffer.from(first.certificateDerBase64, 'base64');
    expect(first.kid).toBe(createHash('sha1').update(der).digest('base64url'));
    expect(first.x5t).toBe(first.kid);
    expect(spkiOf(new X509Certificate(der).publicKey)).toBe(spkiOf(first.publicKey));
    expect(spkiOf(createPublicKey(first.privateKey))).toBe(spkiOf(first.publicKey));
  });

  it('rotate() makes the new key active and keeps the old one published', () => {
    expect(second.kid).not.toBe(first.kid);
    expect(ring.active).toBe(second);
    expect(ring.published).toEqual([previous, first, second]);
    expect(ring.find(first.kid)).toBe(first);
  });

  it('refuses to retire the active key', () => {
    expect(() => ring.retire(second.kid)).toThrow(/active signing key cannot be retired/);
    expect(ring.published).toEqual([previous, first, second]);
  });

  it('refuses to retire an unknown kid, naming it', () => {
    expect(() => ring.retire('no-such-kid')).toThrow(/no published key with kid no-such-kid/);
    expect(ring.published).toEqual([previous, first, second]);
  });

  it('an empty ring has no active key', () => {
    expect(() => new SigningKeyRing().active).toThrow(/empty/);
  });

  it('published is a copy', () => {
    (ring.published as SigningKey[]).length = 0;
    expect(ring.published).toHaveLength(3);
  });

  describe('jwks()', () => {
    it('publishes every key in Entra’s shape', () => {
      const { keys } = ring.jwks();
      expect(keys.map((key) => key.kid)).toEqual([previous.kid, first.kid, second.kid]);
      const jwk = first.publicKey.export({ format: 'jwk' });
      expect(keys[1]).toEqual({ kty: 'RSA', use: 'sig', kid: first.kid, x5t: first.x5t, n: jwk.n, e: 'AQAB', x5c: [first.certificateDerBase64] });
      expect('issuer' in keys[1]!).toBe(false);
    });

    it('x5c holds the certificate of the very key n and e describe', () => {
      for (const entry of ring.jwks().keys) {
        const certificateKey = new X509Certificate(Buffer.from(entry.x5c[0]!, 'base64')).publicKey;
        const jwkKey = createPublicKey({ key: { kty: 'RSA', n: entry.n, e: entry.e }, format: 'jwk' });
        expect(spkiOf(certificateKey)).toBe(spkiOf(jwkKey));
      }
    });

    it('adds the issuer member when asked (as the v2 keys endpoint does)', () => {
      const issuer = 'https://127.0.0.1:8443/{tenantid}/v2.0';
      const { keys } = ring.jwks(issuer);
      expect(keys).toHaveLength(3);
      expect(keys.every((key) => key.issuer === issuer)).toBe(true);
    });
  });
});
