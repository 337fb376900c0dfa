import { PassportStrategy } from '@nestjs/passport';
import { BearerStrategy } from './bearer-strategy.js';

/**
 * The `@nestjs/passport` strategy, registered as `entra-bearer` (`AuthGuard('entra-bearer')`). Subclass it (or construct it), pass
 * passport-azure-ad's options to `super(...)`, and add it to a module's providers; `validate(claims)` decides what
 * becomes `request.user` (the token's claims by default).
 */
export class EntraBearerStrategy extends PassportStrategy(BearerStrategy, 'entra-bearer') {
  validate(claims: Record<string, unknown>): unknown {
    return claims;
  }
}
