import { Logger } from '@nestjs/common';
import type { MetadataSettings } from '../config/resolve-options.js';
import { AuthorityMetadataClient } from './authority-metadata.js';

const HOST = 'https://login.example.test';
const TENANT = 'contoso.example';
const START_MS = Date.UTC(2030, 0, 1);

describe('AuthorityMetadataClient.statusOf (health probes)', () => {
  let nowMs: number;
  let failing: boolean;
  let requests: string[];
  let client: AuthorityMetadataClient;

  beforeEach(() => {
    nowMs = START_MS;
    failing = false;
    requests = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      requests.push(String(input));
      if (failing) return new Response('busy', { status: 503 });
      return Response.json({ issuer: `${HOST}/tenant-id/v2.0`, jwks_uri: `${HOST}/${TENANT}/discovery/v2.0/keys`, token_endpoint: `${HOST}/${TENANT}/oauth2/v2.0/token`, authorization_endpoint: `${HOST}/x` });
    };
    client = new AuthorityMetadataClient({ authorityHost: HOST, fetch, timeoutMs: 1000, clock: { nowMs: () => nowMs } } as MetadataSettings);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('reports nothing fetched, then the fetch time, without fetching to report', async () => {
    expect(client.statusOf(TENANT)).toEqual({ fetchedAtMs: undefined, lastError: undefined });
    expect(requests).toEqual([]);
    await client.get(TENANT);
    nowMs += 5_000;
    // Tenant names compare case-insensitively, as the cache does.
    expect(client.statusOf(TENANT.toUpperCase())).toEqual({ fetchedAtMs: START_MS, lastError: undefined });
    expect(client.statusOf(TENANT, 1)).toEqual({ fetchedAtMs: undefined, lastError: undefined });
    expect(requests).toHaveLength(1);
  });

  it('reports the last failure (our message, not the body) until a fetch succeeds', async () => {
    failing = true;
    await expect(client.get(TENANT)).rejects.toThrow();
    expect(client.statusOf(TENANT)).toEqual({ fetchedAtMs: undefined, lastError: "The identity provider's discovery document answered HTTP 503." });
    failing = false;
    nowMs += 60_000;
    await client.get(TENANT);
    expect(client.statusOf(TENANT)).toEqual({ fetchedAtMs: nowMs, lastError: undefined });
  });
});
