import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateLeases, CertificatePool, defaultKeyCacheDir } from './key-pool.js';
import { createSelfSignedCertificate, type GeneratedCertificate } from './x509-certificates.js';

describe('CertificatePool: certificates leased, one live holder each', () => {
  let folder: string;
  let made: number;
  // Key generation is the slow part: the specs make a few certificates once and hand out copies by common name.
  const stock = new Map<string, GeneratedCertificate[]>();
  const make = async (commonName: string): Promise<GeneratedCertificate> => {
    made += 1;
    const list = stock.get(commonName) ?? [];
    stock.set(commonName, list);
    const certificate = await createSelfSignedCertificate(`${commonName} ${made}`);
    list.push(certificate);
    return certificate;
  };

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'entra-pool-'));
    made = 0;
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  it('makes a certificate when none is free, and hands a released one to the next lease instead of making one', async () => {
    const pool = new CertificatePool(folder);
    const first = await pool.lease('signing', make);
    await first.release();
    const second = await pool.lease('signing', make);
    expect(made).toBe(1);
    expect(second.certificate.x5t).toBe(first.certificate.x5t);
    expect(second.certificate.privateKeyPem).toBe(first.certificate.privateKeyPem);
  });

  it('never leases one certificate twice at once, even to another process sharing the folder', async () => {
    const here = new CertificatePool(folder);
    const otherProcess = new CertificatePool(folder);
    const held = await here.lease('signing', make);
    await held.release();
    const [a, b] = await Promise.all([here.lease('signing', make), otherProcess.lease('signing', make)]);
    expect(a.certificate.x5t).not.toBe(b.certificate.x5t);
    expect(made).toBe(2);
  });

  it('keeps common names apart', async () => {
    const pool = new CertificatePool(folder);
    await (await pool.lease('signing', make)).release();
    const app = await pool.lease('Contoso Tasks API', make);
    expect(app.certificate.certificatePem).toBe(stock.get('Contoso Tasks API')![0]!.certificatePem);
    expect(made).toBe(2);
  });

  it('frees a lease whose process is gone', async () => {
    const pool = new CertificatePool(folder);
    const lease = await pool.lease('signing', make);
    const [sub] = await readdir(join(folder, 'certificates'));
    const [leasedName] = await readdir(join(folder, 'certificates', sub!));
    // As a crashed process leaves it: still marked leased, by a pid no process has.
    const abandoned = leasedName!.replace(/\.leased-\d+-/, '.leased-2147483646-');
    await rename(join(folder, 'certificates', sub!, leasedName!), join(folder, 'certificates', sub!, abandoned));
    const next = await pool.lease('signing', make);
    expect(next.certificate.x5t).toBe(lease.certificate.x5t);
    expect(made).toBe(1);
  });

  it('works in memory without a folder, and when the folder cannot be written', async () => {
    // A "folder" below a plain file can never be created (ENOTDIR), like a read-only disk.
    await writeFile(join(folder, 'a-file'), '');
    for (const pool of [new CertificatePool(undefined), new CertificatePool(join(folder, 'a-file', 'cache'))]) {
      made = 0;
      const first = await pool.lease('signing', make);
      const concurrent = await pool.lease('signing', make);
      expect(concurrent.certificate.x5t).not.toBe(first.certificate.x5t);
      await first.release();
      expect((await pool.lease('signing', make)).certificate.x5t).toBe(first.certificate.x5t);
      expect(made).toBe(2);
    }
  });

  it('CertificateLeases gives back everything an emulator held, at once', async () => {
    const pool = new CertificatePool(folder);
    const leases = new CertificateLeases(pool, make);
    const held = [await leases.certificate('signing'), await leases.certificate('signing')];
    await leases.releaseAll();
    const again = [await pool.lease('signing', make), await pool.lease('signing', make)];
    expect(again.map((lease) => lease.certificate.x5t).sort()).toEqual(held.map((certificate) => certificate.x5t).sort());
    expect(made).toBe(2);
  });

  it('keeps its cache under the OS temp dir unless told otherwise', () => {
    expect(defaultKeyCacheDir({})).toMatch(new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/nestjs-entra-obo-emulator-`));
    expect(defaultKeyCacheDir({ ENTRA_EMULATOR_KEY_CACHE_DIR: '/srv/keys' })).toBe('/srv/keys');
    expect(defaultKeyCacheDir({ ENTRA_EMULATOR_KEY_CACHE: 'off' })).toBeUndefined();
  });
});
