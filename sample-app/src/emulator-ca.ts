import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/** Where `npm start` writes the emulator's CA, beside the emulator CLI's files (`ENTRA_EMULATOR_OUT_DIR`). */
export function caFilePath(): string {
  return resolve(process.env.ENTRA_EMULATOR_OUT_DIR ?? '.entra-emulator', 'sample-ca.pem');
}

/** Writes the CA (a public certificate: no secret) and returns its path. */
export async function writeEmulatorCa(caCertificatePem: string, file = caFilePath()): Promise<string> {
  await mkdir(resolve(file, '..'), { recursive: true, mode: 0o700 });
  await writeFile(file, caCertificatePem);
  return file;
}

/**
 * How to make a browser trust that CA. The emulator makes a new CA at every start, so this is done once per run (the
 * nickname stays the same, so the first command removes the previous run's CA). Nothing here touches the system's
 * trust store: the browser is the only client that needs it, every tier trusts the CA per client (`entra.fetch`).
 */
export function trustInstructions(file: string): string[] {
  return [
    `The emulator serves HTTPS with its own CA, written to ${file}. Trust it in the browser you sign in with (it changes at every start):`,
    `  Chrome / Chromium / Edge on Linux (libnss3-tools):`,
    `    certutil -d sql:$HOME/.pki/nssdb -D -n entra-emulator 2>/dev/null; certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n entra-emulator -i ${file}`,
    `  Firefox: Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import ${file} ("identify websites")`,
    `  macOS (Safari, Chrome): security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db ${file}`,
    `  Windows (Edge, Chrome): certutil -user -addstore Root ${file}`,
    `  or a throwaway Chromium that trusts it, leaving your own profile alone: README.md, "The sample: three tiers, three flows".`,
  ];
}
