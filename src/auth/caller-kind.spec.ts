import { callerKindOf } from './caller-kind.js';

const TID = '11111111-2222-4333-8444-555555555555';
const ISSUERS = [`https://login.microsoftonline.com/${TID}/v2.0`, `https://sts.windows.net/${TID}/`];
const HOME_ISSUER = 'https://sts.windows.net/99999999-8888-4777-8666-555555555555/';
const SERVICE_PRINCIPAL = 'aaaaaaaa-0000-4000-8000-000000000001';
const USER_OID = 'bbbbbbbb-0000-4000-8000-000000000002';
const PAIRWISE_SUB = 'Xj2v3c4pL7mWqZr8sTu9yA0bC1dE2fG3hI4jK5lM6nO';

describe('callerKindOf', () => {
  it('takes idtyp "app" for app-only', () => {
    expect(callerKindOf({ idtyp: 'app', oid: SERVICE_PRINCIPAL, sub: SERVICE_PRINCIPAL, roles: ['R'] }, false, ISSUERS)).toEqual({ isAppOnly: true, isGuest: false });
  });

  it('takes no scp with oid === sub for app-only, without the optional idtyp claim', () => {
    expect(callerKindOf({ oid: SERVICE_PRINCIPAL, sub: SERVICE_PRINCIPAL, roles: ['R'], idp: ISSUERS[1] }, false, ISSUERS)).toEqual({ isAppOnly: true, isGuest: false });
  });

  it('takes a delegated token with roles and no scp for a user (its sub is pairwise, not its oid)', () => {
    expect(callerKindOf({ oid: USER_OID, sub: PAIRWISE_SUB, roles: ['R'] }, false, ISSUERS)).toEqual({ isAppOnly: false, isGuest: false });
  });

  it('detects a guest whose delegated token carries roles, no scp and no acct claim', () => {
    expect(callerKindOf({ oid: USER_OID, sub: PAIRWISE_SUB, roles: ['R'], idp: HOME_ISSUER }, false, ISSUERS)).toEqual({ isAppOnly: false, isGuest: true });
  });

  it('detects a guest by acct 1 or by an idp from another tenant', () => {
    expect(callerKindOf({ oid: USER_OID, sub: PAIRWISE_SUB, acct: 1 }, true, ISSUERS).isGuest).toBe(true);
    expect(callerKindOf({ oid: USER_OID, sub: PAIRWISE_SUB, idp: HOME_ISSUER }, true, ISSUERS).isGuest).toBe(true);
    expect(callerKindOf({ oid: USER_OID, sub: PAIRWISE_SUB, idp: ISSUERS[0] }, true, ISSUERS).isGuest).toBe(false);
    expect(callerKindOf({ oid: USER_OID, sub: PAIRWISE_SUB }, true, ISSUERS).isGuest).toBe(false);
  });

  it('never takes a token with scp for app-only by oid === sub alone', () => {
    expect(callerKindOf({ oid: USER_OID, sub: USER_OID, scp: 'access_as_user' }, true, ISSUERS).isAppOnly).toBe(false);
  });
});
