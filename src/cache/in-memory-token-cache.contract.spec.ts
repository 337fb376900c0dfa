import { registerOboTokenCacheContract } from '../testing/cache-contract.js';
import { InMemoryTokenCache } from './in-memory-token-cache.js';

registerOboTokenCacheContract('InMemoryTokenCache', () => ({ cache: new InMemoryTokenCache() }), { describe, it });
