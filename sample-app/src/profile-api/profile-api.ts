import { Controller, Get, Inject, Module, Post, Res, UseGuards, type INestApplication } from '@nestjs/common';
import type { Response } from 'express';
import { NestFactory } from '@nestjs/core';
import { CurrentUser, OboAuthGuard, OboModule, RequireRoles, RequireScopes, type EntraPrincipal } from 'nestjs-entra-obo';
import { sampleLogger } from '../nest-logger.js';
import { listenOrClose } from '../ports.js';
import type { EntraSettings } from '../settings.js';

/** Where the claims challenge sends clients: this tenant's authority. */
const AUTHORITY_HOST = 'AUTHORITY_HOST';

/**
 * The downstream API: it only validates tokens (no credential), and shows who called it and through whom. Its `cae/`
 * routes play a resource that evaluates access continuously: a token it was told to distrust (as a critical event,
 * say a session revoked, would make it) is answered with a claims challenge, as Entra-protected resources do
 * (https://learn.microsoft.com/entra/identity-platform/claims-challenge: 401, `WWW-Authenticate: Bearer realm="",
 * authorization_uri=..., error="insufficient_claims", claims="{base64 JSON}"`).
 */
@Controller()
@UseGuards(OboAuthGuard)
class ProfileController {
  /** `uti` of the tokens this API no longer accepts; bounded, as a real revocation list would be. */
  private readonly distrusted = new Set<string>();
  private readonly challengesByUser = new Map<string, number>();

  constructor(@Inject(AUTHORITY_HOST) private readonly authorityHost: string) {}

  @Get('profile')
  @RequireScopes('Profile.Read')
  profile(@CurrentUser() caller: EntraPrincipal) {
    return {
      name: caller.name,
      username: caller.username,
      // The identity chain: the user's own oid and tid survive the On-Behalf-Of exchange; azp is the middle tier.
      identityChain: { oid: caller.oid, tid: caller.tid, azp: caller.clientId, scopes: caller.scopes },
    };
  }

  /** Distrusts the very token this request carries, so the next call with it meets a claims challenge. */
  @Post('cae/revoke-my-token')
  @RequireScopes('Profile.Read')
  revokeMyToken(@CurrentUser() caller: EntraPrincipal) {
    const uti = String(caller.claims.uti);
    if (this.distrusted.size >= 10_000) this.distrusted.clear();
    this.distrusted.add(uti);
    return { revokedUti: uti };
  }

  @Get('cae/profile')
  @RequireScopes('Profile.Read')
  caeProfile(@CurrentUser() caller: EntraPrincipal, @Res({ passthrough: true }) response: Response) {
    const uti = String(caller.claims.uti);
    const challengesIssued = this.challengesByUser.get(caller.oid) ?? 0;
    if (this.distrusted.has(uti)) {
      this.challengesByUser.set(caller.oid, challengesIssued + 1);
      // A token issued from now on satisfies the challenge: `nbf` no earlier than this moment.
      const claims = JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } } });
      const authorizationUri = `${this.authorityHost}/${caller.tid}/oauth2/v2.0/authorize`;
      response.status(401).setHeader('www-authenticate', `Bearer realm="", authorization_uri="${authorizationUri}", error="insufficient_claims", claims="${Buffer.from(claims).toString('base64')}"`);
      return { error: 'insufficient_claims' };
    }
    return { uti, challengesIssued };
  }

  @Get('directory/stats')
  @RequireRoles('Directory.Read.All')
  stats(@CurrentUser() caller: EntraPrincipal) {
    return { users: 4, tenants: 2, calledBy: caller.clientId, appOnly: caller.isAppOnly };
  }
}

export async function startProfileApi(entra: EntraSettings, port: number): Promise<INestApplication> {
  @Module({
    imports: [OboModule.forRoot({ tenantId: entra.tenantId, clientId: entra.profileApi.clientId, authorityHost: entra.authorityHost, fetch: entra.fetch, ...(entra.clock ? { clock: entra.clock } : {}) })],
    controllers: [ProfileController],
    providers: [{ provide: AUTHORITY_HOST, useValue: entra.authorityHost }],
  })
  class ProfileApiModule {}
  const app = await NestFactory.create(ProfileApiModule, { logger: sampleLogger() });
  return listenOrClose(app, port);
}
