import 'reflect-metadata';
import { Reflector } from '@nestjs/core';
import { PublicRoute, RequiredRoles, RequiredScopes } from './route-metadata.js';
import { RouteRequirementsReader } from './route-requirements.js';

// One handler shared by two controllers (a subclass inherits it) with different controller-level metadata: the reader
// must key on the pair, not on the handler alone.
@RequiredScopes(['Base.Read'])
class BaseController {
  list(): void {}
  @PublicRoute(true)
  health(): void {}
}

@RequiredRoles(['Admin'])
class AdminController extends BaseController {}

class OtherController {
  @RequiredScopes(['Other.Write'])
  write(): void {}
}

describe('RouteRequirementsReader', () => {
  const list = BaseController.prototype.list;
  const health = BaseController.prototype.health;
  const write = OtherController.prototype.write;

  it('reads each route once and answers the same object again, whatever came in between', () => {
    const reflector = new Reflector();
    const get = jest.spyOn(reflector, 'get');
    const reader = new RouteRequirementsReader(reflector);
    const first = reader.of(list, BaseController);
    const other = reader.of(write, OtherController);
    const reads = get.mock.calls.length;
    expect(reads).toBeGreaterThan(0);
    expect(reader.of(list, BaseController)).toBe(first);
    expect(reader.of(list, BaseController)).toBe(first);
    expect(reader.of(write, OtherController)).toBe(other);
    expect(get.mock.calls.length).toBe(reads);
  });

  it('keeps routes apart when they alternate: handler and controller both decide', () => {
    const reader = new RouteRequirementsReader(new Reflector());
    for (let round = 0; round < 3; round += 1) {
      expect(reader.of(list, BaseController)).toMatchObject({ isPublic: false, scopes: ['Base.Read'], roles: undefined });
      expect(reader.of(list, AdminController)).toMatchObject({ isPublic: false, scopes: ['Base.Read'], roles: ['Admin'] });
      expect(reader.of(health, BaseController)).toMatchObject({ isPublic: true });
      expect(reader.of(write, OtherController)).toMatchObject({ isPublic: false, scopes: ['Other.Write'], roles: undefined });
      expect(reader.of(write, AdminController)).toMatchObject({ scopes: ['Other.Write'], roles: ['Admin'] });
    }
  });
});
