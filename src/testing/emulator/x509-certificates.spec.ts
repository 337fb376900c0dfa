import { X509Certificate } from 'node:crypto';
import { createSelfSignedCertificate, loadX509, MISSING_X509_MESSAGE, thumbprintsOf } from './x509-certificates.js';

/** The error Node's ESM loader throws for a package that is not installed, as an app without the peer would see it. */
function packageNotFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/nestjs-entra-obo/dist/testing/emulator/x509-certificates.js`), { code: 'ERR_MODULE_NOT_FOUND' });
}

describe('@peculiar/x509, an optional peer loaded on first use', () => {
  it('loads the installed package', async () => {
    const x509 = await loadX509();
    expect(typeof x509.X509CertificateGenerator.createSelfSigned).toBe('function');
  });

  it('turns "package not installed" (ESM or CommonJS) into the install command', async () => {
    await expect(loadX509(() => Promise.reject(packageNotFound('@peculiar/x509')))).rejects.toThrow(MISSING_X509_MESSAGE);
    const commonJs = Object.assign(new Error("Cannot find module '@peculiar/x509'"), { code: 'MODULE_NOT_FOUND' });
    await expect(loadX509(() => Promise.reject(commonJs))).rejects.toThrow('nestjs-entra-obo/testing needs @peculiar/x509: npm i -D @peculiar/x509');
  });

  it('passes any other failure on as it is: a module missing inside the package is not "install the package"', async () => {
    const inner = packageNotFound('tsyringe');
    await expect(loadX509(() => Promise.reject(inner))).rejects.toBe(inner);
    const broken = new TypeError('x509 exploded');
    await expect(loadX509(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('reads thumbprints with node:crypto alone (no @peculiar/x509 needed for a certificate a user brings)', async () => {
    const generated = await createSelfSignedCertificate('thumbprint test');
    const read = thumbprintsOf(generated.certificatePem);
    expect(read.x5t).toBe(generated.x5t);
    expect(read.x5tS256).toBe(generated.x5tS256);
    expect(new X509Certificate(generated.certificatePem).subject).toBe('CN=thumbprint test');
  });
});
