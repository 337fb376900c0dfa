// The per-user generation scripts the token cache and the session store share (one index and generation per user).

/**
 * Before a user's entry is written: adds it to the user's index and returns the user's generation (creating a random
 * one when there is none), each key kept alive as long as the user's longest-lived entry (PTTL is -1 without
 * expiry). KEYS: index, generation (one hash slot); ARGV: entry name, TTL ms, a fresh generation. PTTL rather than
 * PEXPIRETIME or EXPIRE ... GT, which need Redis 7: managed Redis services still run 6.x.
 */
export const PREPARE_USER_WRITE = `
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[3]
  redis.call('SET', KEYS[2], generation, 'PX', ARGV[2])
elseif redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return generation`;
/**
 * A user's eviction: drops the generation (every value of that user stops decrypting at once, even a copy written
 * back later) and the index, returning the indexed entry names. KEYS: index, generation.
 */
export const FORGET_USER = "local names = redis.call('SMEMBERS', KEYS[1]) redis.call('DEL', KEYS[1], KEYS[2]) return names";
