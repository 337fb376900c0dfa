import { registerOboTokenCacheContract } from '../testing/cache-contract.js';
import { InMemoryTokenCache } from './in-memory-token-cache.js';

registerOboTokenCacheContract('InMemoryTokenCache', () => ({ cache: new InMemoryTokenCache() }), { describe, it });

registerOboTokenCacheContract(
  'InMemoryTokenCache on a clock the test moves',
  () => {
    let nowMs = Date.now();
    return { cache: new InMemoryTokenCache({}, () => nowMs), nowMs: () => nowMs, advanceMs: (ms: number) => (nowMs += ms) };
  },
  { describe, it },
);
