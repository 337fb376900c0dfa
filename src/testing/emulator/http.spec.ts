import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { basicCredentials, escapeHtml } from './http.js';

/** A request that never touches the network: only its headers matter to basicCredentials. */
function requestWithAuthorization(authorization?: string): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  if (authorization !== undefined) request.headers.authorization = authorization;
  return request;
}

function basic(userPass: string, scheme = 'Basic'): IncomingMessage {
  return requestWithAuthorization(`${scheme} ${Buffer.from(userPass, 'utf8').toString('base64')}`);
}

describe('escapeHtml', () => {
  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>Tom & Jerry</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;');
  });

  it('escapes an ampersand only once and leaves other text alone', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtml('Ünïcode – ok / 100%')).toBe('Ünïcode – ok / 100%');
    expect(escapeHtml('')).toBe('');
  });
});

describe('basicCredentials', () => {
  it('reads the client id and secret', () => {
    expect(basicCredentials(basic('my-client:s3cret'))).toEqual({ clientId: 'my-client', clientSecret: 's3cret' });
  });

  // RFC 6749 §2.3.1: both parts are form-url-encoded before base64, so `+` is a space and `%XX` an escape.
  it('form-url-decodes both parts', () => {
    expect(basicCredentials(basic('client%3Aid:p%40ss+word%2B%7E'))).toEqual({ clientId: 'client:id', clientSecret: 'p@ss word+~' });
  });

  it('splits at the first colon, so a secret may contain raw colons', () => {
    expect(basicCredentials(basic('client:a:b:c'))).toEqual({ clientId: 'client', clientSecret: 'a:b:c' });
  });

  it('accepts the scheme in any case', () => {
    expect(basicCredentials(basic('client:secret', 'basic'))).toEqual({ clientId: 'client', clientSecret: 'secret' });
    expect(basicCredentials(basic('client:secret', 'BASIC'))).toEqual({ clientId: 'client', clientSecret: 'secret' });
  });

  it('keeps an empty secret as empty', () => {
    expect(basicCredentials(basic('client:'))).toEqual({ clientId: 'client', clientSecret: '' });
  });

  it.each([
    ['no Authorization header', requestWithAuthorization()],
    ['a Bearer header', requestWithAuthorization('Bearer eyJ0eXAiOiJKV1QifQ')],
    ['no space after the scheme', requestWithAuthorization(`Basic${Buffer.from('client:secret').toString('base64')}`)],
    ['no colon in the credentials', basic('client-secret')],
    ['a malformed percent escape', basic('client%zz:secret')],
    ['a truncated percent escape in the secret', basic('client:secret%')],
  ])('is undefined for %s', (_label, request) => {
    expect(basicCredentials(request)).toBeUndefined();
  });
});
