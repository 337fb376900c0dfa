/**
 * `nestjs-entra-obo`: the NestJS module (OboModule, OboAuthGuard, @DownstreamToken, @AppToken). Its public surface
 * is listed here explicitly, export by export, as each part lands; the Entra ID emulator is at
 * `nestjs-entra-obo/testing`.
 */
export {};
