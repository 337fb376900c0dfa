import 'reflect-metadata';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { AppTokenPipe } from './app-token.pipe.js';
import { AppToken } from './app-token.decorator.js';
import { DownstreamToken } from './downstream-token.decorator.js';
import { Public } from './public.decorator.js';
import { RequireRoles } from './require-roles.decorator.js';
import { RequireScopes } from './require-scopes.decorator.js';
import { PublicRoute, RequiredRoles, RequiredScopes } from '../auth/route-metadata.js';

interface RouteArgument {
  index: number;
  data: unknown;
  pipes: unknown[];
}

/** The custom parameter metadata Nest's router reads for `method` of `target`. */
function routeArguments(target: object, method: string): RouteArgument[] {
  return Object.values((Reflect.getMetadata(ROUTE_ARGS_METADATA, target, method) ?? {}) as Record<string, RouteArgument>);
}

const reflector = new Reflector();

describe('@RequireScopes and @RequireRoles', () => {
  it('record the scopes and roles as route metadata', () => {
    @RequireRoles('Reports.Read.All')
    class ReportsController {
      @RequireScopes('access_as_user', 'Reports.Read')
      list(): void {}
    }
    expect(reflector.get(RequiredScopes, ReportsController.prototype.list)).toEqual(['access_as_user', 'Reports.Read']);
    expect(reflector.get(RequiredRoles, ReportsController)).toEqual(['Reports.Read.All']);
  });

  it('freeze the recorded list, so a caller cannot widen a route after the fact', () => {
    const scopes = ['access_as_user'];
    class Controller {
      @RequireScopes(...scopes)
      route(): void {}
    }
    scopes.push('anything');
    const recorded = reflector.get(RequiredScopes, Controller.prototype.route);
    expect(recorded).toEqual(['access_as_user']);
    expect(Object.isFrozen(recorded)).toBe(true);
  });

  it.each([[[]], [['']], [['  ']], [['ok', '']], [[42 as unknown as string]]])('@RequireScopes refuses %j', (scopes) => {
    expect(() => RequireScopes(...scopes)).toThrow(new TypeError('@RequireScopes needs at least one non-empty scope name'));
  });

  it.each([[[]], [['']], [['Admin', ' ']], [[undefined as unknown as string]]])('@RequireRoles refuses %j', (roles) => {
    expect(() => RequireRoles(...roles)).toThrow(new TypeError('@RequireRoles needs at least one non-empty role name'));
  });
});

describe('@Public', () => {
  it('marks a route public', () => {
    class Controller {
      @Public()
      health(): void {}
    }
    expect(reflector.get(PublicRoute, Controller.prototype.health)).toBe(true);
  });
});

describe('@DownstreamToken', () => {
  it.each([
    ['a scope', 'api://downstream/Profile.Read', { scopes: 'api://downstream/Profile.Read' }],
    ['a list of scopes', ['api://downstream/Profile.Read', 'api://downstream/Mail.Read'], { scopes: ['api://downstream/Profile.Read', 'api://downstream/Mail.Read'] }],
    ['options', { scopes: ['api://downstream/Profile.Read'], result: true }, { scopes: ['api://downstream/Profile.Read'], result: true }],
  ])('accepts %s and keeps the options for its factory, with no pipe (a hit costs no promise)', (_label, input, options) => {
    class Controller {
      profile(@DownstreamToken(input) _token: string): void {}
    }
    const [argument] = routeArguments(Controller, 'profile');
    expect(argument).toEqual(expect.objectContaining({ index: 0, data: options, pipes: [] }));
  });

  it.each([
    ['an empty scope', ''],
    ['a blank scope', '   '],
    ['no scopes', []],
    ['a blank among scopes', ['api://downstream/Profile.Read', '']],
    ['options without scopes', { scopes: [] }],
    ['options with a non-string scope', { scopes: [7 as unknown as string] }],
    ['nothing', undefined as unknown as string],
  ])('refuses %s', (_label, input) => {
    expect(() => DownstreamToken(input)).toThrow(new TypeError('@DownstreamToken needs at least one scope of the downstream API'));
  });
});

describe('@AppToken', () => {
  it.each([
    ['a .default scope', 'api://downstream/.default', { scopes: 'api://downstream/.default' }],
    ['a list', ['https://graph.microsoft.com/.default'], { scopes: ['https://graph.microsoft.com/.default'] }],
    ['options with a tenant', { scopes: 'api://downstream/.default', tenantId: 'contoso.com', result: true }, { scopes: 'api://downstream/.default', tenantId: 'contoso.com', result: true }],
  ])('accepts %s and hands the options to its pipe', (_label, input, options) => {
    class Controller {
      report(@AppToken(input) _token: string): void {}
    }
    const [argument] = routeArguments(Controller, 'report');
    expect(argument).toEqual(expect.objectContaining({ index: 0, data: options, pipes: [AppTokenPipe] }));
  });

  it.each([
    ['a delegated scope', 'api://downstream/Profile.Read'],
    ['a scope merely containing .default', 'api://downstream/.default.Read'],
    ['a .default mixed with a delegated scope', ['api://downstream/.default', 'api://downstream/Profile.Read']],
    ['an empty scope', ''],
    ['no scopes', []],
    ['options without scopes', { scopes: [] }],
    ['nothing', undefined as unknown as string],
  ])('refuses %s', (_label, input) => {
    expect(() => AppToken(input)).toThrow(new TypeError("@AppToken needs the downstream API's '{resource}/.default' scope"));
  });
});
