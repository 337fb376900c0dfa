import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { CachedToken } from '../cache/obo-token-cache.js';
import { OboConfigurationError } from '../errors/obo-errors.js';
import { createSelfSignedCertificate, type GeneratedCertificate } from '../testing/emulator/x509-certificates.js';
import type { OboModuleOptions } from './obo-module-options.js';
import { resolveOboOptions, type ResolvedCredential } from './resolve-options.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const OTHER_TENANT = '99999999-8888-4777-8666-555555555555';
const CLIENT = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
// Recognisable, so that a leak into a message is found by a plain substring search.
const SECRET = 'Sup3r~Secret.Value_DO-NOT-LEAK';

function options(overrides: Partial<Record<keyof OboModuleOptions, unknown>> & Record<string, unknown> = {}): OboModuleOptions {
  return { tenantId: TENANT, clientId: CLIENT, credential: { clientSecret: SECRET }, ...overrides } as OboModuleOptions;
}

/** The OboConfigurationError an invalid input must produce; fails the test when the input is accepted. */
function configurationErrorOf(input: unknown): OboConfigurationError {
  try {
    resolveOboOptions(input as OboModuleOptions);
  } catch (error) {
    if (error instanceof OboConfigurationError) return error;
    throw new Error(`expected an OboConfigurationError, got ${inspect(error)}`, { cause: error });
  }
  throw new Error('expected the options to be rejected, but they were accepted');
}

function problemsOf(input: unknown): readonly string[] {
  return configurationErrorOf(input).problems;
}

function credentialOf(input: OboModuleOptions): ResolvedCredential {
  const { credential } = resolveOboOptions(input);
  if (!credential) throw new Error('expected a resolved credential');
  return credential;
}

/** Every rendering of the error a log or a response could contain. */
function everyRenderingOf(error: OboConfigurationError): string {
  return [error.message, error.stack ?? '', ...error.problems, JSON.stringify(error), inspect(error, { depth: 5 })].join('\n');
}

describe('resolveOboOptions', () => {
  let directory: string;
  let certificate: GeneratedCertificate;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'obo-options-'));
    certificate = await createSelfSignedCertificate('obo-options-spec');
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function writeTemporaryFile(name: string, content: string): string {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  }

  describe('defaults', () => {
    it('fills in every default for a minimal single-tenant configuration', () => {
      const resolved = resolveOboOptions(options());
      expect(resolved.tenantId).toBe(TENANT);
      expect(resolved.isMultiTenant).toBe(false);
      expect(resolved.clientId).toBe(CLIENT);
      expect(resolved.audiences).toEqual([CLIENT, `api://${CLIENT}`]);
      expect(resolved.authorityHost).toBe('https://login.microsoftonline.com');
      expect(resolved.clockToleranceSec).toBe(60);
      expect(resolved.timeoutMs).toBe(10_000);
      expect(resolved.retries).toBe(2);
      expect(resolved.deadlineMs).toBe(15_000);
      expect(resolved.refreshMarginSec).toBe(300);
      expect(resolved.verifiedTokenCacheSize).toBe(10_000);
      expect(resolved.allowGuests).toBe(true);
      expect(resolved.cache).toBeUndefined();
      expect(resolved.fetch).toBe(globalThis.fetch);
      expect(resolved.allowedTenants).toEqual(new Set([TENANT]));
      expect(resolved.credential).toEqual({ kind: 'secret', clientSecret: SECRET });
    });

    it('uses the system clock unless one is given', () => {
      const before = Date.now();
      const reading = resolveOboOptions(options()).clock.nowMs();
      expect(reading).toBeGreaterThanOrEqual(before);
      expect(reading).toBeLessThanOrEqual(Date.now());
      const clock = { nowMs: () => 42 };
      expect(resolveOboOptions(options({ clock })).clock).toBe(clock);
    });

    it('keeps explicit values that are in range', () => {
      const fetchImplementation: typeof fetch = async () => new Response('{}');
      const resolved = resolveOboOptions(
        options({ audiences: ['api://custom'], clockToleranceSec: 0, timeoutMs: 1, retries: 0, refreshMarginSec: 3600, allowGuests: false, fetch: fetchImplementation, verifiedTokenCacheSize: 0 }),
      );
      expect(resolved.audiences).toEqual(['api://custom']);
      expect(resolved.clockToleranceSec).toBe(0);
      expect(resolved.timeoutMs).toBe(1);
      expect(resolved.retries).toBe(0);
      expect(resolved.refreshMarginSec).toBe(3600);
      expect(resolved.verifiedTokenCacheSize).toBe(0);
      expect(resolved.allowGuests).toBe(false);
      expect(resolved.fetch).toBe(fetchImplementation);
    });

    it('normalises the tenant and client ids to lower case (tokens carry them lower case)', () => {
      const resolved = resolveOboOptions(options({ tenantId: ` ${TENANT.toUpperCase()} `, clientId: CLIENT.toUpperCase() }));
      expect(resolved.tenantId).toBe(TENANT);
      expect(resolved.clientId).toBe(CLIENT);
      expect(resolved.audiences).toEqual([CLIENT, `api://${CLIENT}`]);
    });
  });

  describe('reporting', () => {
    it('reports every problem of one input in one OboConfigurationError', () => {
      const error = configurationErrorOf({
        tenantId: 'not a tenant',
        clientId: 'not-a-guid',
        credential: {},
        authorityHost: 'http://login.example.com',
        clockToleranceSec: 301,
        retries: -1,
        audiences: [],
        cache: {},
        allowGuests: 'yes',
        colour: 'blue',
      });
      expect(error.code).toBe('configuration');
      expect(error.problems).toHaveLength(10);
      const expected = [
        /^unknown option 'colour'$/,
        /^tenantId must be/,
        /^clientId must be/,
        /^audiences must be/,
        /^credential must have exactly one of .*; got none$/,
        /^authorityHost must be an https: URL/,
        /^clockToleranceSec must be an integer from 0 to 300, got 301$/,
        /^retries must be an integer from 0 to 5, got -1$/,
        /^cache must implement OboTokenCache/,
        /^allowGuests must be a boolean$/,
      ];
      for (const pattern of expected) expect(error.problems.filter((problem) => pattern.test(problem))).toHaveLength(1);
      for (const problem of error.problems) expect(error.message).toContain(problem);
    });

    it("names what was misconfigured: the module's options", () => {
      const error = configurationErrorOf(options({ retries: 9 }));
      expect(error.subject).toBe('OboModule options');
      expect(error.message).toBe('Invalid OboModule options:\n- retries must be an integer from 0 to 5, got 9');
    });

    it('names unknown options (a typo is not silently ignored)', () => {
      expect(problemsOf(options({ tenantID: TENANT, clockSkewSec: 5 }))).toEqual(["unknown option 'tenantID'", "unknown option 'clockSkewSec'"]);
    });

    it('refuses something that is not an object', () => {
      expect(problemsOf(null)).toEqual(['options must be an object']);
      expect(problemsOf('tenant')).toEqual(['options must be an object']);
    });
  });

  describe('tenantId', () => {
    it.each([TENANT, 'contoso.onmicrosoft.com', 'contoso.com'])('accepts %s as a single tenant', (tenantId) => {
      const resolved = resolveOboOptions(options({ tenantId }));
      expect(resolved.isMultiTenant).toBe(false);
      expect(resolved.tenantId).toBe(tenantId);
    });

    it('binds a GUID tenant as the only allowed tenant', () => {
      expect(resolveOboOptions(options()).allowedTenants).toEqual(new Set([TENANT]));
    });

    it.each(['organizations', 'common'])('needs allowedTenants or allowAnyTenant for %s', (tenantId) => {
      const problems = problemsOf(options({ tenantId }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/multi-tenant .*needs allowedTenants .*or allowAnyTenant/);
    });

    it('accepts a multi-tenant API with an allow-list, normalised to lower case', () => {
      const resolved = resolveOboOptions(options({ tenantId: 'organizations', allowedTenants: [TENANT.toUpperCase(), OTHER_TENANT] }));
      expect(resolved.isMultiTenant).toBe(true);
      expect(resolved.allowedTenants).toEqual(new Set([TENANT, OTHER_TENANT]));
    });

    it('accepts a multi-tenant API open to any tenant', () => {
      const resolved = resolveOboOptions(options({ tenantId: 'common', allowAnyTenant: true }));
      expect(resolved.isMultiTenant).toBe(true);
      expect(resolved.allowedTenants).toBe('any');
    });

    it('refuses allowedTenants together with allowAnyTenant', () => {
      expect(problemsOf(options({ tenantId: 'organizations', allowedTenants: [TENANT], allowAnyTenant: true }))).toEqual([
        'allowedTenants and allowAnyTenant contradict each other: give one',
      ]);
    });

    it.each([[[]], [['contoso.com']], ['not-an-array']])('refuses allowedTenants %j on a multi-tenant API', (allowedTenants) => {
      expect(problemsOf(options({ tenantId: 'organizations', allowedTenants }))).toEqual(['allowedTenants must be a non-empty array of tenant ids (GUIDs)']);
    });

    it('refuses allowedTenants or allowAnyTenant on a single-tenant API', () => {
      expect(problemsOf(options({ allowedTenants: [OTHER_TENANT] }))).toEqual([
        "allowedTenants and allowAnyTenant apply only to a multi-tenant tenantId ('organizations' or 'common')",
      ]);
      expect(problemsOf(options({ tenantId: 'contoso.com', allowAnyTenant: true }))).toHaveLength(1);
    });

    it("refuses 'consumers' and says why", () => {
      const problems = problemsOf(options({ tenantId: 'consumers' }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain("'consumers' has no organisational tokens");
    });

    it.each([undefined, '', 'contoso', 'https://login.microsoftonline.com/' + TENANT, 42])('refuses tenantId %j', (tenantId) => {
      expect(problemsOf(options({ tenantId }))).toEqual([expect.stringMatching(/^tenantId must be a tenant id \(GUID\)/)]);
    });
  });

  describe('clientId', () => {
    it.each([undefined, '', 'my-api', 'api://' + CLIENT, CLIENT + '0', 7])('refuses clientId %j', (clientId) => {
      expect(problemsOf(options({ clientId }))).toEqual(['clientId must be the application (client) id, a GUID']);
    });
  });

  describe('audiences', () => {
    it.each([[[]], [['']], [[42]], ['api://x']])('refuses audiences %j', (audiences) => {
      expect(problemsOf(options({ audiences }))).toEqual(['audiences must be a non-empty array of strings']);
    });
  });

  describe('credential', () => {
    it('requires a credential', () => {
      expect(problemsOf(options({ credential: null as unknown as undefined }))).toEqual([expect.stringMatching(/^credential must be one of/)]);
      expect(resolveOboOptions(options({ credential: undefined })).credential).toBeUndefined();
    });

    it('requires exactly one kind', () => {
      expect(problemsOf(options({ credential: {} }))).toEqual([expect.stringMatching(/got none$/)]);
      expect(problemsOf(options({ credential: { clientSecret: SECRET, federatedTokenFile: '/x' } }))).toEqual([
        expect.stringMatching(/got clientSecret and federatedTokenFile$/),
      ]);
    });

    it.each(['', 42])('refuses the client secret %j', (clientSecret) => {
      expect(problemsOf(options({ credential: { clientSecret } }))).toEqual(['credential.clientSecret must be a non-empty string']);
    });

    describe('client certificate', () => {
      it('loads the key and certificate given as PEM text, and computes the SHA-256 thumbprint of the DER', () => {
        const resolved = credentialOf(options({ credential: { clientCertificate: { privateKey: certificate.privateKeyPem, certificate: certificate.certificatePem } } }));
        const expectedThumbprint = createHash('sha256').update(new X509Certificate(certificate.certificatePem).raw).digest('hex').toUpperCase();
        expect(expectedThumbprint).toBe(certificate.thumbprintSha256Hex);
        expect(resolved).toEqual({
          kind: 'certificate',
          privateKeyPem: certificate.privateKeyPem,
          certificatePem: certificate.certificatePem,
          thumbprintSha256: expectedThumbprint,
        });
      });

      it('loads the key and certificate from file paths', () => {
        const keyPath = writeTemporaryFile('key.pem', certificate.privateKeyPem);
        const certificatePath = writeTemporaryFile('certificate.pem', certificate.certificatePem);
        const resolved = credentialOf(options({ credential: { clientCertificate: { privateKey: keyPath, certificate: certificatePath } } }));
        expect(resolved).toEqual({
          kind: 'certificate',
          privateKeyPem: certificate.privateKeyPem,
          certificatePem: certificate.certificatePem,
          thumbprintSha256: certificate.thumbprintSha256Hex,
        });
      });

      it('accepts a PKCS#1 key with a thumbprint instead of the certificate, upper-casing it', () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const pkcs1 = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
        expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
        const resolved = credentialOf(options({ credential: { clientCertificate: { privateKey: pkcs1, thumbprintSha256: certificate.thumbprintSha256Hex.toLowerCase() } } }));
        expect(resolved).toEqual({ kind: 'certificate', privateKeyPem: pkcs1, thumbprintSha256: certificate.thumbprintSha256Hex });
      });

      // The last is a SHA-1 thumbprint (40 hex), what the Azure portal shows: the wrong hash for thumbprintSha256.
      it.each([undefined, 'abc', 'Z'.repeat(64), 'A1'.repeat(20)])('refuses thumbprintSha256 %j without a certificate', (thumbprintSha256) => {
        expect(problemsOf(options({ credential: { clientCertificate: { privateKey: certificate.privateKeyPem, thumbprintSha256 } } }))).toEqual([
          'credential.clientCertificate needs certificate (PEM or path) or thumbprintSha256 (64 hex characters)',
        ]);
      });

      it('refuses a PEM block that is not a readable private key', () => {
        const unreadable = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n';
        expect(problemsOf(options({ credential: { clientCertificate: { privateKey: unreadable, certificate: certificate.certificatePem } } }))).toEqual([
          'credential.clientCertificate.privateKey is not a readable private key',
        ]);
      });

      it('refuses a private key that does not belong to the certificate', () => {
        const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
        expect(problemsOf(options({ credential: { clientCertificate: { privateKey: otherKey, certificate: certificate.certificatePem } } }))).toEqual([
          'credential.clientCertificate.privateKey does not belong to the certificate',
        ]);
      });

      it('refuses a PEM block that is not a certificate', () => {
        expect(problemsOf(options({ credential: { clientCertificate: { privateKey: certificate.privateKeyPem, certificate: certificate.privateKeyPem } } }))).toEqual([
          'credential.clientCertificate.certificate is not a readable X.509 certificate',
        ]);
      });

      it('refuses a path with no file behind it, and a file without PEM text', () => {
        const notPem = writeTemporaryFile('not-pem.txt', 'just some text\n');
        const problems = problemsOf(options({ credential: { clientCertificate: { privateKey: join(directory, 'missing.pem'), certificate: notPem } } }));
        expect(problems).toEqual([
          'credential.clientCertificate.privateKey: no file at the given path, and the value is not PEM text',
          'credential.clientCertificate.certificate: the file does not hold PEM text',
        ]);
      });

      it('reports a path it cannot read (a directory) as a problem instead of throwing an fs error', () => {
        const problems = problemsOf(options({ clientId: 'not-a-guid', credential: { clientCertificate: { privateKey: directory, certificate: certificate.certificatePem } } }));
        expect(problems).toHaveLength(2);
        expect(problems).toContain('clientId must be the application (client) id, a GUID');
        expect(problems.some((problem) => problem.startsWith('credential.clientCertificate.privateKey'))).toBe(true);
      });

      it('refuses a clientCertificate that is not an object, and an empty private key', () => {
        expect(problemsOf(options({ credential: { clientCertificate: 'cert.pem' } }))).toEqual([expect.stringMatching(/^credential.clientCertificate must be an object/)]);
        expect(problemsOf(options({ credential: { clientCertificate: { privateKey: ' ', certificate: certificate.certificatePem } } }))).toEqual([
          'credential.clientCertificate.privateKey must be a PEM string or the path of a PEM file',
        ]);
      });
    });

    describe('client assertion', () => {
      it('serves a fixed assertion', async () => {
        const resolved = credentialOf(options({ credential: { clientAssertion: 'eyJ.assertion.sig' } }));
        expect(resolved.kind).toBe('assertion');
        if (resolved.kind !== 'assertion') return;
        await expect(resolved.getAssertion()).resolves.toBe('eyJ.assertion.sig');
      });

      it('asks the function for a fresh assertion every time', async () => {
        let issued = 0;
        const resolved = credentialOf(options({ credential: { clientAssertion: async () => `assertion-${++issued}` } }));
        if (resolved.kind !== 'assertion') throw new Error(`expected an assertion credential, got ${resolved.kind}`);
        await expect(resolved.getAssertion()).resolves.toBe('assertion-1');
        await expect(resolved.getAssertion()).resolves.toBe('assertion-2');
      });

      it.each(['', 42, null])('refuses %j', (clientAssertion) => {
        expect(problemsOf(options({ credential: { clientAssertion } }))).toEqual(['credential.clientAssertion must be a non-empty string or a function returning one']);
      });
    });

    describe('federated token file', () => {
      it('accepts an existing file', () => {
        const tokenFile = writeTemporaryFile('federated-token', 'eyJ.federated.sig');
        expect(credentialOf(options({ credential: { federatedTokenFile: tokenFile } }))).toEqual({ kind: 'federated', tokenFile });
      });

      it('refuses a missing file', () => {
        expect(problemsOf(options({ credential: { federatedTokenFile: join(directory, 'absent') } }))).toEqual([
          'credential.federatedTokenFile must be the path of an existing file',
        ]);
      });
    });
  });

  describe('authorityHost', () => {
    it.each([
      ['https://login.microsoftonline.us', 'https://login.microsoftonline.us'],
      ['https://login.microsoftonline.com/', 'https://login.microsoftonline.com'],
      ['https://127.0.0.1:8443/', 'https://127.0.0.1:8443'],
    ])('accepts %s as %s', (authorityHost, expected) => {
      expect(resolveOboOptions(options({ authorityHost })).authorityHost).toBe(expected);
    });

    it('refuses http:', () => {
      expect(problemsOf(options({ authorityHost: 'http://localhost:8443' }))).toEqual(['authorityHost must be an https: URL (Entra and MSAL refuse http:)']);
    });

    it.each(['https://login.microsoftonline.com/' + TENANT, 'https://login.microsoftonline.com/?x=1', 'https://login.microsoftonline.com/#t'])('refuses %s (not a bare origin)', (authorityHost) => {
      expect(problemsOf(options({ authorityHost }))).toEqual([expect.stringMatching(/^authorityHost must be a bare origin/)]);
    });

    it('refuses something that is not a URL', () => {
      expect(problemsOf(options({ authorityHost: 'login.microsoftonline.com' }))).toEqual(['authorityHost must be a URL like https://login.microsoftonline.com']);
    });
  });

  describe('integer bounds', () => {
    it.each([
      ['clockToleranceSec', 0, 300],
      ['timeoutMs', 1, 120_000],
      ['retries', 0, 5],
      ['deadlineMs', 1, 600_000],
      ['refreshMarginSec', 0, 3600],
      ['verifiedTokenCacheSize', 0, 10_000_000],
      ['maxTokenLengthBytes', 1024, 16 * 1024 * 1024],
    ] as const)('%s accepts %d to %d and nothing outside', (name, min, max) => {
      expect(resolveOboOptions(options({ [name]: min }))[name]).toBe(min);
      expect(resolveOboOptions(options({ [name]: max }))[name]).toBe(max);
      for (const value of [min - 1, max + 1, min + 0.5, Number.NaN, String(min)]) {
        expect(problemsOf(options({ [name]: value }))).toEqual([expect.stringMatching(new RegExp(`^${name} must be an integer from ${min} to ${max}, got `))]);
      }
    });
  });

  describe('warmUp, allowPersonalAccounts, maxTokenLengthBytes', () => {
    const CONSUMERS = '9188040d-6c67-4c5b-b112-36a304b66dad';

    it('defaults to warming up, refusing personal accounts and a 250 KB token cap (Microsoft.IdentityModel\'s 1024 × 250)', () => {
      expect(resolveOboOptions(options())).toMatchObject({ warmUp: true, allowPersonalAccounts: false, maxTokenLengthBytes: 256_000 });
      expect(resolveOboOptions(options({ warmUp: false, maxTokenLengthBytes: 8192 }))).toMatchObject({ warmUp: false, maxTokenLengthBytes: 8192 });
    });

    it("accepts allowPersonalAccounts with tenantId 'common' only", () => {
      expect(resolveOboOptions(options({ tenantId: 'common', allowAnyTenant: true, allowPersonalAccounts: true })).allowPersonalAccounts).toBe(true);
      expect(problemsOf(options({ tenantId: 'organizations', allowAnyTenant: true, allowPersonalAccounts: true }))).toEqual([expect.stringMatching(/allowPersonalAccounts needs tenantId 'common'.*organizations/)]);
      expect(problemsOf(options({ allowPersonalAccounts: true }))).toEqual([expect.stringMatching(/allowPersonalAccounts needs tenantId 'common'/)]);
    });

    it('refuses the consumers tenant in allowedTenants, pointing to allowPersonalAccounts', () => {
      for (const tenantId of ['organizations', 'common']) {
        expect(problemsOf(options({ tenantId, allowedTenants: [TENANT, CONSUMERS.toUpperCase()] }))).toEqual([expect.stringMatching(/consumers.*allowPersonalAccounts: true/)]);
      }
    });

    it('refuses values that are not booleans', () => {
      expect(problemsOf(options({ warmUp: 'yes', allowPersonalAccounts: 1 }))).toEqual(['warmUp must be a boolean', 'allowPersonalAccounts must be a boolean']);
    });
  });

  describe('cache, fetch, clock', () => {
    it('accepts a subclass of OboTokenCache and a structural implementation', () => {
      const cache = new InMemoryTokenCache();
      expect(resolveOboOptions(options({ cache })).cache).toBe(cache);
      const entries = new Map<string, CachedToken>();
      const structural = { get: (key: string) => entries.get(key), set: (key: string, value: CachedToken) => void entries.set(key, value), delete: (key: string) => void entries.delete(key) };
      expect(resolveOboOptions(options({ cache: structural })).cache).toBe(structural);
    });

    it.each([
      ['an empty object', {}],
      ['an object without delete', { get: () => undefined, set: () => undefined }],
      ['null', null],
      ['a connection string', 'redis://localhost'],
    ])('refuses %s as the cache', (_label, cache) => {
      expect(problemsOf(options({ cache }))).toEqual(['cache must implement OboTokenCache (get, set, delete)']);
    });

    it('refuses a fetch that is not a function and a clock without nowMs', () => {
      expect(problemsOf(options({ fetch: 'https://proxy', clock: { now: () => 1 } }))).toEqual(['fetch must be a fetch function', 'clock must have a nowMs() method']);
    });
  });

  describe('secrets never appear in the error', () => {
    it('keeps the client secret and the private key out of every rendering of the error', () => {
      const unrelatedKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      const keyBody = unrelatedKeyPem.split('\n')[1]!;
      const inputs: unknown[] = [
        // Each is invalid somewhere else, so the error is thrown with the secret still in the input.
        options({ clientId: 'nope', credential: { clientSecret: SECRET } }),
        options({ credential: { clientSecret: SECRET, clientAssertion: SECRET } }),
        options({ credential: { clientCertificate: { privateKey: unrelatedKeyPem, certificate: unrelatedKeyPem } } }),
        options({ credential: { clientCertificate: { privateKey: unrelatedKeyPem, thumbprintSha256: SECRET } } }),
        options({ credential: { clientCertificate: { privateKey: SECRET, certificate: SECRET } } }),
        options({ credential: { clientAssertion: SECRET, federatedTokenFile: SECRET } }),
        options({ credential: { federatedTokenFile: SECRET } }),
        options({ tenantId: SECRET, clientId: SECRET, authorityHost: `https://${SECRET}@login.example.com/${SECRET}`, credential: { clientSecret: SECRET } }),
        options({ authorityHost: `http://user:${SECRET}@login.example.com` }),
        options({ authorityHost: SECRET, audiences: [SECRET, 42], allowedTenants: [SECRET] }),
      ];
      for (const input of inputs) {
        const rendered = everyRenderingOf(configurationErrorOf(input));
        expect(rendered).not.toContain(SECRET);
        expect(rendered).not.toContain(keyBody);
        expect(rendered).not.toContain('PRIVATE KEY');
      }
    });
  });
});
