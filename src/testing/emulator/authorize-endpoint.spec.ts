import { isRegisteredRedirectUri } from './authorize-endpoint.js';
import { EmulatorDirectory, type EmulatorApp } from './directory.js';

describe('isRegisteredRedirectUri', () => {
  let app: EmulatorApp;

  beforeEach(() => {
    const directory = new EmulatorDirectory();
    const tenant = directory.addTenant({ displayName: 'Contoso' });
    app = directory.addApp({
      displayName: 'Web',
      tenantId: tenant.id,
      redirectUris: ['https://app.example/auth/callback', 'http://localhost/auth/callback', 'http://127.0.0.1:3000/cb', 'http://[::1]/cb', 'http://app.example/cb'],
    });
  });

  it('accepts a registered URI exactly as registered', () => {
    expect(isRegisteredRedirectUri(app, 'https://app.example/auth/callback')).toBe(true);
    expect(isRegisteredRedirectUri(app, 'http://127.0.0.1:3000/cb')).toBe(true);
  });

  it('refuses an https URI that differs in any way', () => {
    expect(isRegisteredRedirectUri(app, 'https://app.example/auth/callback/')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'https://app.example/auth/other')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'https://app.example:8443/auth/callback')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'https://evil.example/auth/callback')).toBe(false);
  });

  // RFC 8252 §7.3: a native app listens on an ephemeral port, so Entra ignores the port of a loopback URI.
  it('accepts any port on an http loopback URI: localhost, 127.0.0.1 and [::1]', () => {
    expect(isRegisteredRedirectUri(app, 'http://localhost:53123/auth/callback')).toBe(true);
    expect(isRegisteredRedirectUri(app, 'http://localhost/auth/callback')).toBe(true);
    expect(isRegisteredRedirectUri(app, 'http://127.0.0.1:61000/cb')).toBe(true);
    expect(isRegisteredRedirectUri(app, 'http://127.0.0.1/cb')).toBe(true);
    expect(isRegisteredRedirectUri(app, 'http://[::1]:49152/cb')).toBe(true);
  });

  it('does not relax the port for https, even on loopback', () => {
    const directory = new EmulatorDirectory();
    const tenant = directory.addTenant({ displayName: 'Contoso' });
    const secure = directory.addApp({ displayName: 'Secure', tenantId: tenant.id, redirectUris: ['https://localhost/cb'] });
    expect(isRegisteredRedirectUri(secure, 'https://localhost/cb')).toBe(true);
    expect(isRegisteredRedirectUri(secure, 'https://localhost:8443/cb')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'https://localhost:8443/auth/callback')).toBe(false);
  });

  it('does not relax the port for a host that is not loopback', () => {
    expect(isRegisteredRedirectUri(app, 'http://app.example/cb')).toBe(true);
    expect(isRegisteredRedirectUri(app, 'http://app.example:8080/cb')).toBe(false);
  });

  it('does not let one loopback host stand for another', () => {
    expect(isRegisteredRedirectUri(app, 'http://127.0.0.1:5000/auth/callback')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'http://localhost:5000/cb')).toBe(false);
  });

  it('still requires the path of a loopback URI to match', () => {
    expect(isRegisteredRedirectUri(app, 'http://localhost:53123/auth/other')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'http://localhost:53123/')).toBe(false);
    expect(isRegisteredRedirectUri(app, 'http://127.0.0.1:61000/cb/extra')).toBe(false);
  });

  it.each(['not a url', '', '/auth/callback', 'http://'])('is false for the unparsable %p', (redirectUri) => {
    expect(isRegisteredRedirectUri(app, redirectUri)).toBe(false);
  });
});
