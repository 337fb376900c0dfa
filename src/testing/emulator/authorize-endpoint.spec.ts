import { isRegisteredRedirectUri } from './authorize-endpoint.js';
import { EmulatorDirectory, type EmulatorApp } from './directory.js';

/** An app in a fresh one-tenant directory with exactly these redirect URIs. */
function appWithRedirectUris(redirectUris: string[]): EmulatorApp {
  const directory = new EmulatorDirectory();
  const tenant = directory.addTenant({ displayName: 'Contoso' });
  return directory.addApp({ displayName: 'Web', tenantId: tenant.id, redirectUris });
}

const REGISTERED = ['https://app.example/auth/callback', 'http://localhost/auth/callback', 'http://127.0.0.1:3000/cb', 'http://[::1]/cb', 'http://app.example/cb'];

describe('isRegisteredRedirectUri', () => {
  // Each group: a rule, and the URIs (tried against REGISTERED, or against the group's own registration) it decides.
  describe.each<[string, Array<[string, boolean]>, string[]?]>([
    ['accepts a registered URI exactly as registered', [['https://app.example/auth/callback', true], ['http://127.0.0.1:3000/cb', true]]],
    [
      'refuses an https URI that differs in any way',
      [
        ['https://app.example/auth/callback/', false],
        ['https://app.example/auth/other', false],
        ['https://app.example:8443/auth/callback', false],
        ['https://evil.example/auth/callback', false],
      ],
    ],
    // RFC 8252 §7.3: a native app listens on an ephemeral port, so Entra ignores the port of a loopback URI.
    [
      'accepts any port on an http loopback URI: localhost, 127.0.0.1 and [::1]',
      [
        ['http://localhost:53123/auth/callback', true],
        ['http://localhost/auth/callback', true],
        ['http://127.0.0.1:61000/cb', true],
        ['http://127.0.0.1/cb', true],
        ['http://[::1]:49152/cb', true],
      ],
    ],
    ['does not relax the port for https, even on loopback', [['https://localhost/cb', true], ['https://localhost:8443/cb', false]], ['https://localhost/cb']],
    ['does not relax the port for https on loopback, for a URI registered as http', [['https://localhost:8443/auth/callback', false]]],
    ['does not relax the port for a host that is not loopback', [['http://app.example/cb', true], ['http://app.example:8080/cb', false]]],
    ['does not let one loopback host stand for another', [['http://127.0.0.1:5000/auth/callback', false], ['http://localhost:5000/cb', false]]],
    [
      'still requires the path of a loopback URI to match',
      [
        ['http://localhost:53123/auth/other', false],
        ['http://localhost:53123/', false],
        ['http://127.0.0.1:61000/cb/extra', false],
      ],
    ],
    ['is false for the unparsable', [['not a url', false], ['', false], ['/auth/callback', false], ['http://', false]]],
  ])('%s', (_rule, cases, registered = REGISTERED) => {
    it.each(cases)('%p → %p', (redirectUri, expected) => {
      expect(isRegisteredRedirectUri(appWithRedirectUris(registered), redirectUri)).toBe(expected);
    });
  });
});
