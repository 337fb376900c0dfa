// OboAuthGuard, @CurrentUser and @DownstreamToken in real microservices on loopback: gRPC, where the token is the
// call's `authorization` metadata (gRPC's counterpart of the header: https://grpc.io/docs/guides/auth/), and TCP,
// which has no metadata, so the token is the payload's `authorization` field, `Bearer <token>`. Refusals are
// RpcException-shaped: the gRPC status code (https://grpc.github.io/grpc/core/md_doc_statuscodes.html: 16
// UNAUTHENTICATED, 7 PERMISSION_DENIED) with details on gRPC, the error body on TCP.
import { Controller, Module, UseGuards, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, GrpcMethod, MessagePattern, Transport, type ClientProxy } from '@nestjs/microservices';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { lastValueFrom } from 'rxjs';
import { CurrentUser, DownstreamToken, OboAuthGuard, OboModule, RequireRoles, type EntraPrincipal } from '../../src/index.js';
import { describeWithRedis, REDIS_URL } from '../redis/support/redis.js';
import { useEmulator, userToken } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';

const PROTO = `
syntax = "proto3";
package obo.test;
service CallerService {
  rpc WhoAmI (Empty) returns (Caller);
  rpc Downstream (Empty) returns (Audience);
  rpc Admin (Empty) returns (Caller);
}
message Empty {}
message Caller { string oid = 1; }
message Audience { string aud = 1; }
`;

@Controller()
@UseGuards(OboAuthGuard)
class GrpcController {
  @GrpcMethod('CallerService', 'WhoAmI')
  whoAmI(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }

  @GrpcMethod('CallerService', 'Downstream')
  downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { aud: String(decodeJwt(token).aud) };
  }

  @GrpcMethod('CallerService', 'Admin')
  @RequireRoles('Tasks.Admin')
  admin(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }
}

@Controller()
@UseGuards(OboAuthGuard)
class TcpController {
  @MessagePattern('whoami')
  whoami(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }

  @MessagePattern('downstream')
  downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { aud: decodeJwt(token).aud };
  }
}

/** Redis carries every app's messages on one server: a pattern of this run's own, so no other run answers it. */
const REDIS_WHOAMI = `obo-transport-test:whoami:${randomUUID()}`;

@Controller()
@UseGuards(OboAuthGuard)
class RedisController {
  @MessagePattern(REDIS_WHOAMI)
  whoami(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }
}

type GrpcCall = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response?: unknown) => void) => void;
type CallerClient = { WhoAmI: GrpcCall; Downstream: GrpcCall; Admin: GrpcCall; close(): void };

describe('microservices', () => {
  const entra = useEmulator();

  describe('gRPC', () => {
    let service: INestMicroservice;
    let client: CallerClient;
    let protoDirectory: string;
    beforeAll(async () => {
      protoDirectory = await mkdtemp(join(tmpdir(), 'obo-grpc-'));
      const protoPath = join(protoDirectory, 'caller.proto');
      await writeFile(protoPath, PROTO);
      const url = `127.0.0.1:${await freePort()}`;
      @Module({ imports: [OboModule.forRoot(middleTierOptions(entra))], controllers: [GrpcController] })
      class GrpcModule {}
      service = await NestFactory.createMicroservice(GrpcModule, { transport: Transport.GRPC, options: { package: 'obo.test', protoPath, url }, logger: ['error', 'warn'] });
      await service.listen();
      const definition = loadPackageDefinition(loadSync(protoPath)) as unknown as { obo: { test: { CallerService: new (address: string, creds: unknown) => CallerClient } } };
      client = new definition.obo.test.CallerService(url, credentials.createInsecure());
    });
    afterAll(async () => {
      client?.close();
      await service?.close();
      await rm(protoDirectory, { recursive: true, force: true });
    });

    function call(method: keyof Omit<CallerClient, 'close'>, authorization?: string): Promise<{ response?: unknown; error?: { code: number; details: string } }> {
      const metadata = new Metadata();
      if (authorization !== undefined) metadata.set('authorization', authorization);
      return new Promise((resolve) => {
        client[method]({}, metadata, (error, response) => resolve(error ? { error: { code: error.code, details: error.details } } : { response }));
      });
    }

    it("reads the token from the call's authorization metadata", async () => {
      expect(await call('WhoAmI', `Bearer ${await userToken(entra)}`)).toEqual({ response: { oid: entra.defaults.users.member.id } });
    });

    it('exchanges the token On-Behalf-Of for @DownstreamToken', async () => {
      expect(await call('Downstream', `Bearer ${await userToken(entra)}`)).toEqual({ response: { aud: entra.defaults.apps.downstreamApi.app.clientId } });
    });

    it('answers a call without a token UNAUTHENTICATED (16)', async () => {
      expect(await call('WhoAmI')).toEqual({ error: { code: 16, details: 'unauthorized: The request has no bearer access token.' } });
    });

    it('answers an invalid token UNAUTHENTICATED with invalid_token, never echoing it', async () => {
      const token = `${(await userToken(entra)).slice(0, -4)}AAAA`;
      const answer = await call('WhoAmI', `Bearer ${token}`);
      expect(answer.error?.code).toBe(16);
      expect(answer.error?.details).toMatch(/^invalid_token: /);
      expect(answer.error?.details).not.toContain(token.split('.')[1]);
    });

    it('answers a missing role PERMISSION_DENIED (7)', async () => {
      expect(await call('Admin', `Bearer ${await userToken(entra)}`)).toEqual({ error: { code: 7, details: expect.stringMatching(/^insufficient_scope: /) } });
    });
  });

  describe('TCP', () => {
    let service: INestMicroservice;
    let client: ClientProxy;
    beforeAll(async () => {
      const port = await freePort();
      @Module({ imports: [OboModule.forRoot(middleTierOptions(entra))], controllers: [TcpController] })
      class TcpModule {}
      service = await NestFactory.createMicroservice(TcpModule, { transport: Transport.TCP, options: { host: '127.0.0.1', port }, logger: ['error', 'warn'] });
      await service.listen();
      client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
      await client.connect();
    });
    afterAll(async () => {
      await client?.close();
      await service?.close();
    });

    const send = (pattern: string, payload: object) => lastValueFrom(client.send<unknown>(pattern, payload)).then((response) => ({ response }), (error: unknown) => ({ error }));

    it("reads the token from the payload's authorization field", async () => {
      expect(await send('whoami', { authorization: `Bearer ${await userToken(entra)}` })).toEqual({ response: { oid: entra.defaults.users.member.id } });
      expect(await send('downstream', { authorization: `Bearer ${await userToken(entra)}` })).toEqual({ response: { aud: entra.defaults.apps.downstreamApi.app.clientId } });
    });

    it('answers a message without one with an RpcException-shaped error', async () => {
      expect(await send('whoami', { question: 'who am I?' })).toEqual({ error: { status: 'error', statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' } });
    });

    it('refuses a bare token: the field holds `Bearer <token>`, as the header does', async () => {
      expect(await send('whoami', { authorization: await userToken(entra) })).toEqual({ error: expect.objectContaining({ statusCode: 401, error: 'unauthorized' }) });
    });
  });

  describeWithRedis('Redis (the transport, at REDIS_URL)', () => {
    let service: INestMicroservice;
    let client: ClientProxy;
    beforeAll(async () => {
      const { hostname, port } = new URL(REDIS_URL);
      const options = { host: hostname, port: Number(port || 6379) };
      @Module({ imports: [OboModule.forRoot(middleTierOptions(entra))], controllers: [RedisController] })
      class RedisModule {}
      service = await NestFactory.createMicroservice(RedisModule, { transport: Transport.REDIS, options, logger: ['error', 'warn'] });
      await service.listen();
      client = ClientProxyFactory.create({ transport: Transport.REDIS, options });
      await client.connect();
    });
    afterAll(async () => {
      await client?.close();
      await service?.close();
    });

    const send = (payload: object) => lastValueFrom(client.send<unknown>(REDIS_WHOAMI, payload)).then((response) => ({ response }), (error: unknown) => ({ error }));

    it("reads the token from the payload's authorization field, and refuses a message without one", async () => {
      expect(await send({ authorization: `Bearer ${await userToken(entra)}` })).toEqual({ response: { oid: entra.defaults.users.member.id } });
      expect(await send({})).toEqual({ error: { status: 'error', statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' } });
    });
  });
});
