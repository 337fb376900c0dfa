import { resolveOboOptions } from '../config/resolve-options.js';
import { OboConfigurationError } from '../errors/obo-errors.js';
import { verifierSettingsFromBearerOptions, type BearerStrategyOptions } from './bearer-strategy-options.js';

const TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';
const CLIENT = '1f75d70b-655c-41a6-a281-4cee5f0ff250';
const METADATA = `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`;
const BASE: BearerStrategyOptions = { identityMetadata: METADATA, clientID: CLIENT };

function problemsOf(options: unknown): readonly string[] {
  try {
    verifierSettingsFromBearerOptions(options as BearerStrategyOptions);
  } catch (error) {
    if (!(error instanceof OboConfigurationError)) throw error;
    expect(error.subject).toBe('BearerStrategy options');
    expect(error.message.startsWith('Invalid BearerStrategy options:\n- ')).toBe(true);
    return error.problems;
  }
  throw new Error('expected the options to be refused');
}

describe('verifierSettingsFromBearerOptions', () => {
  it("maps passport-azure-ad's names onto the module's settings, with its defaults", () => {
    const mapped = verifierSettingsFromBearerOptions({ ...BASE, identityMetadata: METADATA.replace(TENANT, TENANT.toUpperCase()), clientID: CLIENT.toUpperCase() });
    expect(mapped.settings).toMatchObject({ tenantId: TENANT, isMultiTenant: false, authorityHost: 'https://login.microsoftonline.com', allowedTenants: new Set([TENANT]) });
    // passport-azure-ad lib/bearerstrategy.js: `options.audience = [options.clientID, "spn:" + options.clientID]` when
    // none is given; lib/constants.js: `CLOCK_SKEW = 300`.
    expect(mapped.settings.audiences).toEqual([CLIENT, `api://${CLIENT}`, `spn:${CLIENT}`]);
    expect(mapped.settings.clockToleranceSec).toBe(300);
    expect(mapped).toMatchObject({ clientId: CLIENT, requiredScopes: [], passReqToCallback: false, acceptedIssuers: undefined, allowMultipleAudiences: false });
  });

  it('caps clockSkew at the module\'s most, 300 s, and keeps a smaller one', () => {
    expect(verifierSettingsFromBearerOptions({ ...BASE, clockSkew: 900 }).settings.clockToleranceSec).toBe(300);
    expect(verifierSettingsFromBearerOptions({ ...BASE, clockSkew: 30 }).settings.clockToleranceSec).toBe(30);
    expect(problemsOf({ ...BASE, clockSkew: -1 })).toEqual(['clockSkew must be an integer from 0 to 300, got -1']);
    expect(problemsOf({ ...BASE, clockSkew: 1.5 })).toEqual(['clockSkew must be an integer from 0 to 300, got 1.5']);
  });

  it('reads null as "not given", as passport-azure-ad did, for every option that has a default', () => {
    const nulls = {
      audience: null, validateIssuer: null, issuer: null, scope: null, clockSkew: null, passReqToCallback: null, loggingNoPII: null,
      loggingLevel: null, isB2C: null, allowMultiAudiencesInToken: null, ignoreExpiration: null, policyName: null,
    } satisfies Partial<BearerStrategyOptions>;
    expect(verifierSettingsFromBearerOptions({ ...BASE, ...nulls })).toEqual(verifierSettingsFromBearerOptions(BASE));
  });

  it("reads '' and [] as no issuer, as passport-azure-ad did; refuses audience '' (only null is \"not given\"); clockSkew 0 is no skew", () => {
    const common = 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration';
    for (const issuer of ['', []]) expect(problemsOf({ ...BASE, identityMetadata: common, issuer })).toEqual([expect.stringMatching(/give issuer/)]);
    expect(verifierSettingsFromBearerOptions({ ...BASE, issuer: '' }).acceptedIssuers).toBeUndefined();
    expect(problemsOf({ ...BASE, audience: '' })).toEqual(['audience must be a string or an array of strings']);
    expect(problemsOf({ ...BASE, audience: [] })).toEqual(['audience must be a string or an array of strings']);
    expect(verifierSettingsFromBearerOptions({ ...BASE, clockSkew: 0 }).settings.clockToleranceSec).toBe(0);
    expect(() => verifierSettingsFromBearerOptions({ ...BASE, isB2C: false })).not.toThrow();
  });

  it("applies the module's tenant rule to identityMetadata's tenant, in the module's words", () => {
    const moduleProblem = (() => {
      try {
        resolveOboOptions({ tenantId: 'consumers', clientId: CLIENT });
      } catch (error) {
        return (error as OboConfigurationError).problems[0]!;
      }
      throw new Error('expected consumers to be refused');
    })();
    const [problem] = problemsOf({ ...BASE, identityMetadata: 'https://login.microsoftonline.com/consumers/v2.0/.well-known/openid-configuration' });
    expect(problem).toBe(moduleProblem.replace('tenantId', "identityMetadata's tenant"));
    expect(verifierSettingsFromBearerOptions({ ...BASE, identityMetadata: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/.well-known/openid-configuration' }).settings.tenantId).toBe('contoso.onmicrosoft.com');
  });

  it('refuses ignoreExpiration: true and policyName, saying why, and accepts ignoreExpiration: false', () => {
    expect(problemsOf({ ...BASE, ignoreExpiration: true, policyName: 'B2C_1_signin' })).toEqual([
      'policyName: it names an Azure AD B2C policy, and B2C is not supported by this strategy',
      'ignoreExpiration: an expired token is never accepted; to replay a recorded token, give a clock (the clock option) set to its lifetime',
    ]);
    expect(() => verifierSettingsFromBearerOptions({ ...BASE, ignoreExpiration: false })).not.toThrow();
  });

  it('names an unknown option and a wrongly typed one, all in one error', () => {
    expect(problemsOf({ ...BASE, clientId: CLIENT, loggingLevel: 'debug', passReqToCallback: 'yes' })).toEqual([
      "unknown option 'clientId'",
      'passReqToCallback must be a boolean',
      "loggingLevel must be one of 'info', 'warn', 'error'",
    ]);
    expect(problemsOf(null)).toEqual(['options must be an object']);
    expect(problemsOf({ ...BASE, tenantIdOrName: TENANT })).toEqual([
      "tenantIdOrName is an authenticate option, not a strategy option: pass it per request (passport.authenticate('oauth-bearer', { tenantIdOrName }), or the guard's getAuthenticateOptions)",
    ]);
    expect(problemsOf({ ...BASE, clientSecret: null })).toEqual(["unknown option 'clientSecret'"]);
  });
});
