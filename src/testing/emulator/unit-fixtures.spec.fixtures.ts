// What the emulator's unit specs share: two tenants in a fresh directory, and a key's SPKI to compare keys by. A
// `.spec.` file, so the package leaves it out (package.json `files`), though the build compiles it.
import type { KeyObject } from 'node:crypto';
import { EmulatorDirectory, type EmulatorTenant } from './directory.js';

export const CONTOSO_ID = '11111111-1111-4111-8111-111111111111';
export const FABRIKAM_ID = '22222222-2222-4222-8222-222222222222';

/** A fresh directory holding Contoso and Fabrikam (by the fixed ids above, Fabrikam under `fabrikamDomain` if given), and nothing else. */
export function twoTenantDirectory(fabrikamDomain?: string): { directory: EmulatorDirectory; contoso: EmulatorTenant; fabrikam: EmulatorTenant } {
  const directory = new EmulatorDirectory();
  const contoso = directory.addTenant({ id: CONTOSO_ID, displayName: 'Contoso' });
  const fabrikam = directory.addTenant({ id: FABRIKAM_ID, displayName: 'Fabrikam', ...(fabrikamDomain ? { domain: fabrikamDomain } : {}) });
  return { directory, contoso, fabrikam };
}

/** The DER SubjectPublicKeyInfo of a key, base64: equal for the same public key in whatever form it came. */
export function spkiOf(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}
