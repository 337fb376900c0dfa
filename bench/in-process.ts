// In-process measurements, one per child process: `node in-process.js <measurement> [argument]`.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { InMemoryTokenCache, OboModule, TokenAcquisitionService, type OboTokenCache } from 'nestjs-entra-obo';
import { RedisTokenCache } from 'nestjs-entra-obo/redis';
import { createPinnedFetch } from 'nestjs-entra-obo/testing';
import { createMsalNetworkClientForBench } from './msal-network.js';
import { benchEnvironment, caCertificate, median, report } from './shared.js';

const environment = benchEnvironment();
const ca = caCertificate(environment);
const pinned = createPinnedFetch(ca);
/** User tokens issued by the orchestrator (the emulator lives there). */
const tokens = JSON.parse(readFileSync(process.env.BENCH_TOKENS_FILE!, 'utf8')) as string[];

function rawMsalClient(): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: environment.middleTierClientId,
      clientSecret: environment.middleTierSecret,
      authority: `${environment.authorityHost}/${environment.tenantId}`,
      knownAuthorities: [new URL(environment.authorityHost).host],
    },
    system: { networkClient: createMsalNetworkClientForBench(pinned.fetch) },
  });
}

async function ourService(cache: OboTokenCache): Promise<{ service: TokenAcquisitionService; close: () => Promise<void> }> {
  @Module({
    imports: [
      OboModule.forRoot({
        tenantId: environment.tenantId,
        clientId: environment.middleTierClientId,
        credential: { clientSecret: environment.middleTierSecret },
        authorityHost: environment.authorityHost,
        fetch: pinned.fetch,
        cache,
      }),
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  return { service: app.get(TokenAcquisitionService), close: () => app.close() };
}

/**
 * Fills a shared MSAL client with `users` users' On-Behalf-Of results, as its own cache format has them: one real
 * exchange gives the template; the others are copies under other account ids and assertion hashes, loaded through
 * `deserialize` (10,000 real exchanges into one client would take minutes, each write scanning the whole cache).
 */
async function filledMsalClient(users: number): Promise<ConfidentialClientApplication> {
  const client = rawMsalClient();
  await client.acquireTokenOnBehalfOf({ oboAssertion: tokens[0]!, scopes: [environment.downstreamScope] });
  const template = JSON.parse(client.getTokenCache().serialize()) as Record<string, Record<string, Record<string, unknown>>>;
  const account = Object.values(template.Account!)[0]!;
  const oid = String(account.local_account_id);
  const filled: Record<string, Record<string, unknown>> = { Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} };
  for (let index = 0; index < users; index += 1) {
    const userOid = index === 0 ? oid : randomUUID();
    for (const section of ['Account', 'IdToken', 'AccessToken', 'RefreshToken'] as const) {
      for (const [key, entry] of Object.entries(template[section] ?? {})) {
        const copy = JSON.parse(JSON.stringify(entry).replaceAll(oid, userOid)) as Record<string, unknown>;
        if (index > 0 && section === 'AccessToken') copy.userAssertionHash = randomBytes(32).toString('base64url');
        filled[section]![key.replaceAll(oid, userOid)] = copy;
      }
    }
  }
  client.getTokenCache().deserialize(JSON.stringify(filled));
  return client;
}

async function timeCalls(iterations: number, call: () => Promise<unknown>): Promise<number> {
  return median(await sampleCalls(iterations, call));
}

async function sampleCalls(iterations: number, call: (index: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    await call(index);
    samples.push(performance.now() - started);
  }
  return samples;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** One key for every instance, as a deployment shares it: entries written by one instance decrypt on the others. */
const REDIS_ENCRYPTION_KEY = randomBytes(32).toString('base64');

function redisCache(prefix: string, l1MaxEntries?: number): RedisTokenCache {
  return new RedisTokenCache({ connection: REDIS_URL, encryptionKeys: [REDIS_ENCRYPTION_KEY], keyPrefix: prefix, ...(l1MaxEntries === undefined ? {} : { l1MaxEntries }) });
}

const measurements: Record<string, (argument: number) => Promise<unknown>> = {
  /** Median cost of a cache hit in a shared msal-node client holding `users` users. */
  async 'msal-hit'(users) {
    const client = await filledMsalClient(users);
    let fromCache = true;
    const medianMs = await timeCalls(users >= 10_000 ? 15 : users >= 1000 ? 60 : 300, async () => {
      const result = await client.acquireTokenOnBehalfOf({ oboAssertion: tokens[0]!, scopes: [environment.downstreamScope] });
      fromCache &&= result?.fromCache === true;
    });
    return { users, medianMs, fromCache };
  },

  /** Median cost of our cache hit with `users` entries in the cache. */
  async 'ours-hit'(users) {
    const cache = new InMemoryTokenCache({ maxEntries: Math.max(users, 1) + 10 });
    const { service, close } = await ourService(cache);
    await service.acquireTokenOnBehalfOf(tokens[0]!, environment.downstreamScope);
    const token = 'x'.repeat(1300);
    for (let index = 1; index < users; index += 1) {
      cache.set(`obo|${environment.tenantId}|${environment.downstreamScope.toLowerCase()}|${randomBytes(32).toString('base64url')}`, { accessToken: `${token}${index}`, expiresOnMs: Date.now() + 3_600_000, scopes: [environment.downstreamScope], tenantId: environment.tenantId, userObjectId: randomUUID() }, Date.now() + 3_600_000);
    }
    let fromCache = true;
    const medianMs = await timeCalls(2000, async () => {
      fromCache &&= (await service.acquireTokenOnBehalfOf(tokens[0]!, environment.downstreamScope)).fromCache;
    });
    await close();
    return { users, medianMs, fromCache, cacheSize: cache.size };
  },

  /** 100 concurrent calls for one user on an empty cache; the orchestrator counts the token requests. */
  async 'cold-burst-ours'() {
    const { service, close } = await ourService(new InMemoryTokenCache());
    await Promise.all(Array.from({ length: 100 }, () => service.acquireTokenOnBehalfOf(tokens[0]!, environment.downstreamScope)));
    await close();
    return { calls: 100 };
  },

  async 'cold-burst-msal'() {
    const client = rawMsalClient();
    await Promise.all(Array.from({ length: 100 }, () => client.acquireTokenOnBehalfOf({ oboAssertion: tokens[0]!, scopes: [environment.downstreamScope] })));
    return { calls: 100 };
  },

  /** Heap held by our cache after caching 100,000 users' tokens with the given bound. */
  async 'memory-ours'(maxEntries) {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const cache = new InMemoryTokenCache({ maxEntries });
    gc();
    const before = process.memoryUsage().heapUsed;
    const tokenLength = 1344;
    for (let index = 0; index < 100_000; index += 1) {
      const accessToken = randomBytes(tokenLength).toString('base64url').slice(0, tokenLength);
      cache.set(`obo|${environment.tenantId}|${environment.downstreamScope.toLowerCase()}|${randomBytes(32).toString('base64url')}`, { accessToken, expiresOnMs: Date.now() + 3_600_000, scopes: [environment.downstreamScope], tenantId: environment.tenantId, userObjectId: randomUUID() }, Date.now() + 3_600_000);
    }
    gc();
    const heapBytes = process.memoryUsage().heapUsed - before;
    return { maxEntries, entries: cache.size, heapMB: heapBytes / 1e6, perEntryBytes: heapBytes / cache.size, perEntryOverheadBytes: heapBytes / cache.size - tokenLength };
  },

  async 'memory-msal'(users) {
    const gc = (globalThis as { gc?: () => void }).gc!;
    gc();
    const before = process.memoryUsage().heapUsed;
    const client = await filledMsalClient(users);
    gc();
    const heapBytes = process.memoryUsage().heapUsed - before;
    return { users, heapMB: heapBytes / 1e6, perEntryBytes: heapBytes / users, alive: client !== undefined };
  },

  /** p50/p99 of an L1 hit and an L2 (Redis) hit through the service, next to an exchange (a miss). */
  async 'redis-levels'() {
    const prefix = `bench:${Date.now()}:`;
    const twoLevel = redisCache(prefix);
    const redisOnly = redisCache(prefix, 0);
    const withL1 = await ourService(twoLevel);
    const withoutL1 = await ourService(redisOnly);
    await withL1.service.acquireTokenOnBehalfOf(tokens[0]!, environment.downstreamScope);
    const l1 = await sampleCalls(2000, () => withL1.service.acquireTokenOnBehalfOf(tokens[0]!, environment.downstreamScope));
    const l2 = await sampleCalls(2000, () => withoutL1.service.acquireTokenOnBehalfOf(tokens[0]!, environment.downstreamScope));
    const misses = await sampleCalls(50, (index) => withoutL1.service.acquireTokenOnBehalfOf(tokens[1 + index]!, environment.downstreamScope));
    await Promise.all([withL1.close(), withoutL1.close(), twoLevel.close(), redisOnly.close()]);
    const summary = (values: number[]) => ({ p50Ms: percentile(values, 0.5), p99Ms: percentile(values, 0.99) });
    return { l1Hit: summary(l1), l2Hit: summary(l2), exchange: summary(misses.slice(5)), l2HitsCounted: redisOnly.stats.l2Hits };
  },

  /** Two instances sharing Redis, 50 concurrent cold calls each for the same user; the orchestrator counts exchanges. */
  async 'redis-two-instances'(users) {
    const prefix = `bench:${Date.now()}:`;
    const caches = [redisCache(prefix), redisCache(prefix)];
    const instances = await Promise.all(caches.map((cache) => ourService(cache)));
    for (let user = 0; user < users; user += 1) {
      await Promise.all(instances.flatMap(({ service }) => Array.from({ length: 50 }, () => service.acquireTokenOnBehalfOf(tokens[user]!, environment.downstreamScope))));
    }
    await Promise.all([...instances.map(({ close }) => close()), ...caches.map((cache) => cache.close())]);
    return { users, callsPerUser: 100 };
  },

  /** Alternating misses: a fresh user token each time, through our service vs a bare msal-node call. */
  async 'miss-path'(samples) {
    const { service, close } = await ourService(new InMemoryTokenCache());
    const client = rawMsalClient();
    const ours: number[] = [];
    const bare: number[] = [];
    for (let index = 0; index < samples; index += 1) {
      const oursToken = tokens[1 + 2 * index]!;
      const bareToken = tokens[2 + 2 * index]!;
      let started = performance.now();
      await service.acquireTokenOnBehalfOf(oursToken, environment.downstreamScope);
      ours.push(performance.now() - started);
      started = performance.now();
      await client.acquireTokenOnBehalfOf({ oboAssertion: bareToken, scopes: [environment.downstreamScope] });
      bare.push(performance.now() - started);
    }
    await close();
    // The first samples pay for discovery and connection set-up on both sides.
    const oursMs = median(ours.slice(5));
    const bareMs = median(bare.slice(5));
    return { samples, oursMedianMs: oursMs, bareMedianMs: bareMs, ratio: oursMs / bareMs };
  },
};

async function main(): Promise<void> {
  const [name, argument] = process.argv.slice(2);
  const measurement = measurements[name!];
  if (!measurement) throw new Error(`unknown measurement ${name}`);
  report(await measurement(Number(argument ?? 0)));
  pinned.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
