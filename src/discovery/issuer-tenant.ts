/** The tenant id (GUID, lower-case) an issuer names (`https://{host}/{tid}/v2.0` or `https://sts.windows.net/{tid}/`). */
export function tenantIdOfIssuer(issuer: string): string | undefined {
  return /\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/v2\.0)?\/?$/i.exec(issuer)?.[1]?.toLowerCase();
}
