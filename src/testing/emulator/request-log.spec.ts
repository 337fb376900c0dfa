import { RequestLog, type RecordedRequest } from './request-log.js';

const CLIENT_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const CLIENT_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const HOST = 'https://127.0.0.1:8443';

/** Records a request and fills it in the way the emulator does once it has routed it. */
function recordRoutedRequest(log: RequestLog, path: string, atMs: number, routed: Partial<RecordedRequest>): RecordedRequest {
  const entry = log.record(routed.method ?? 'POST', new URL(`${HOST}${path}?client-request-id=x`), atMs);
  Object.assign(entry, routed);
  return entry;
}

describe('RequestLog', () => {
  let log: RequestLog;

  beforeEach(() => {
    log = new RequestLog();
  });

  it('records the method, path (without query), arrival time, and placeholders to be filled in', () => {
    const entry = log.record('GET', new URL(`${HOST}/contoso.onmicrosoft.com/discovery/v2.0/keys?x=1`), 1_000);
    expect(entry).toEqual({ atMs: 1_000, method: 'GET', path: '/contoso.onmicrosoft.com/discovery/v2.0/keys', endpoint: 'unknown', tenant: '', status: 0 });
  });

  // The emulator fills the entry in after routing and answering; the log must show those updates.
  it('hands back the live entry, so later updates are logged', () => {
    const entry = log.record('POST', new URL(`${HOST}/contoso/oauth2/v2.0/token`), 1_000);
    entry.endpoint = 'token';
    entry.status = 200;
    expect(log.entries()).toEqual([expect.objectContaining({ endpoint: 'token', status: 200 })]);
  });

  it('lists every entry in arrival order without a filter', () => {
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 1, { endpoint: 'token', tenant: 'a' });
    recordRoutedRequest(log, '/b/discovery/v2.0/keys', 2, { method: 'GET', endpoint: 'jwks', tenant: 'b' });
    expect(log.entries().map((entry) => entry.atMs)).toEqual([1, 2]);
  });

  it('filters on endpoint, tenant, grant type and client id, all of them at once', () => {
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 1, { endpoint: 'token', tenant: 'a', grantType: 'client_credentials', clientId: CLIENT_A });
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 2, { endpoint: 'token', tenant: 'a', grantType: 'refresh_token', clientId: CLIENT_B });
    recordRoutedRequest(log, '/b/oauth2/v2.0/token', 3, { endpoint: 'token', tenant: 'b', grantType: 'client_credentials', clientId: CLIENT_A });
    recordRoutedRequest(log, '/a/discovery/v2.0/keys', 4, { method: 'GET', endpoint: 'jwks', tenant: 'a' });

    const times = (entries: RecordedRequest[]) => entries.map((entry) => entry.atMs);
    expect(times(log.entries({ endpoint: 'token' }))).toEqual([1, 2, 3]);
    expect(times(log.entries({ tenant: 'a' }))).toEqual([1, 2, 4]);
    expect(times(log.entries({ grantType: 'client_credentials' }))).toEqual([1, 3]);
    expect(times(log.entries({ clientId: CLIENT_B }))).toEqual([2]);
    expect(times(log.entries({ tenant: 'a', clientId: CLIENT_A }))).toEqual([1]);
    expect(times(log.entries({ endpoint: 'authorize' }))).toEqual([]);
  });

  it('ignores filter members that are undefined', () => {
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 1, { endpoint: 'token', tenant: 'a', clientId: CLIENT_A });
    recordRoutedRequest(log, '/a/discovery/v2.0/keys', 2, { endpoint: 'jwks', tenant: 'a' });
    expect(log.entries({ clientId: undefined, endpoint: 'jwks' }).map((entry) => entry.atMs)).toEqual([2]);
    expect(log.entries({ grantType: undefined })).toHaveLength(2);
  });

  it('returns copies: changing them does not change the log', () => {
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 1, { endpoint: 'token', tenant: 'a', status: 200 });
    const [copy] = log.entries();
    copy!.status = 500;
    copy!.endpoint = 'jwks';
    log.entries().length = 0;
    expect(log.entries()).toEqual([expect.objectContaining({ status: 200, endpoint: 'token' })]);
  });

  it('clear() empties the log, and recording starts afresh', () => {
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 1, { endpoint: 'token' });
    log.clear();
    expect(log.entries()).toEqual([]);
    recordRoutedRequest(log, '/a/oauth2/v2.0/token', 2, { endpoint: 'token' });
    expect(log.entries().map((entry) => entry.atMs)).toEqual([2]);
  });
});
