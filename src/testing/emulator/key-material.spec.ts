import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyMaterial, loadKeyMaterial, lockDataDir } from './key-material.js';

const NAMES = { dns: ['localhost'], ip: ['127.0.0.1'] };

describe('key material kept in a folder', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'entra-material-'));
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  it('makes the CA once, keeps it, and makes a new one when the kept one is damaged', async () => {
    const first = await keyMaterial(folder, NAMES);
    expect(await readFile(join(folder, 'ca.pem'), 'utf8')).toBe(first.authority.certificatePem);
    // In this process, the same objects; another process (a fresh module registry) reads the same files.
    expect(await keyMaterial(folder, NAMES)).toBe(await keyMaterial(folder, NAMES));
    const again = await loadKeyMaterial(folder, NAMES);
    expect(again.authority.certificatePem).toBe(first.authority.certificatePem);
    expect(again.tls.certificatePem).toBe(first.tls.certificatePem);
    await writeFile(join(folder, 'ca.pem'), 'not a certificate');
    const remade = await loadKeyMaterial(folder, NAMES);
    expect(remade.authority.certificatePem).not.toBe(first.authority.certificatePem);
    expect(await readFile(join(folder, 'ca.pem'), 'utf8')).toBe(remade.authority.certificatePem);
  });

  it('issues another TLS certificate, from the same CA, for other names', async () => {
    const loopback = await keyMaterial(folder, NAMES);
    const named = await keyMaterial(folder, { dns: ['localhost', 'entra'], ip: ['127.0.0.1'] });
    expect(named.authority.certificatePem).toBe(loopback.authority.certificatePem);
    expect(named.tls.certificatePem).not.toBe(loopback.tls.certificatePem);
  });

  it('locks a data dir to one holder; a lock left by a process that is gone is taken over', async () => {
    const release = await lockDataDir(folder);
    await expect(lockDataDir(folder)).rejects.toThrow(`The data dir ${folder} is in use by another emulator (process ${process.pid}); give each emulator its own`);
    await release();
    await writeFile(join(folder, 'emulator.lock'), '2147483646 left-by-a-crash');
    const again = await lockDataDir(folder);
    expect((await readFile(join(folder, 'emulator.lock'), 'utf8')).split(' ')[0]).toBe(String(process.pid));
    await again();
  });
});
