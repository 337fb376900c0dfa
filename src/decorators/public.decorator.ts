import { PublicRoute } from '../auth/route-metadata.js';

/** The route (or controller) needs no access token, even under a global `OboAuthGuard`. */
export const Public = (): MethodDecorator & ClassDecorator => PublicRoute(true);
