import { createHash } from 'node:crypto';

/** A Lua script with its SHA1, computed once so each call can try `EVALSHA` first. */
export interface LuaScript {
  source: string;
  sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Numbers go back to JavaScript as strings: Redis truncates Lua numbers to integers in replies, and
// `%.17g` round-trips every double, so Redis and the memory store agree to the last bit.
const format = `
local function format(value)
  if value == math.huge then return 'inf' end
  return string.format('%.17g', value)
end
`;

// Redis 3.2–4 refuse a write after TIME unless effects are replicated; from Redis 5 this is the default.
const replicateEffects = `
if redis.replicate_commands then redis.replicate_commands() end
`;

/**
 * Fixed-window consume, the same rules as `MemoryStore.consumeSync`. The counter is a hash
 * `{ used, resetAt }` (`resetAt` 0: no window) that expires with its window. The window and "now" come from
 * the Redis server's clock, so app instances with skewed clocks agree.
 *
 * KEYS[1] counter; ARGV: amount, limit ('inf' for none), windowMs (0 for none).
 * Answers { allowed (1/0), remaining, resetAt } with numbers as strings.
 */
export const consumeScript = script(`${format}${replicateEffects}
local key = KEYS[1]
local amount = tonumber(ARGV[1])
local limit = ARGV[2] == 'inf' and math.huge or tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local stored = redis.call('HMGET', key, 'used', 'resetAt')
local used = tonumber(stored[1])
local resetAt = tonumber(stored[2])
local changed = false
local created = false
if used == nil or resetAt == nil or (resetAt ~= 0 and resetAt <= now) then
  used = 0
  resetAt = window > 0 and now + window or 0
  changed = true
  created = true
end

local allowed = 1
if amount < 0 then
  used = math.max(0, used + amount)
  changed = true
elseif used + amount > limit then
  allowed = 0
else
  used = used + amount
  changed = true
end

if changed then
  redis.call('HSET', key, 'used', format(used), 'resetAt', format(resetAt))
  if created and resetAt ~= 0 then redis.call('PEXPIREAT', key, math.ceil(resetAt)) end
end
return { allowed, format(math.max(0, limit - used)), format(resetAt) }
`);

/**
 * Adds to a number, creating it at 0 with a TTL (PX) only when it did not exist; an existing TTL is kept.
 * A value that is not a number counts as 0, as in the memory store.
 *
 * KEYS[1] value; ARGV: amount, ttlMs (0 for none). Answers the new value as a string.
 */
export const incrementScript = script(`${format}
local key = KEYS[1]
local amount = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local current = redis.call('GET', key)
if current then
  local value = format((tonumber(current) or 0) + amount)
  redis.call('SET', key, value, 'KEEPTTL')
  return value
end
local value = format(amount)
if ttl > 0 then
  redis.call('SET', key, value, 'PX', ttl)
else
  redis.call('SET', key, value)
end
return value
`);

/**
 * Adds each amount to its field of a hash in one step, creating the hash with a TTL (PX) only when it did not
 * exist. Sums are formatted as in `increment`, so Redis and the memory store agree to the last bit.
 *
 * KEYS[1] hash; ARGV: ttlMs (0 for none), then field, amount pairs.
 */
export const incrementFieldsScript = script(`${format}
local key = KEYS[1]
local ttl = tonumber(ARGV[1])
local created = redis.call('EXISTS', key) == 0
for i = 2, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', key, ARGV[i])) or 0
  redis.call('HSET', key, ARGV[i], format(current + tonumber(ARGV[i + 1])))
end
if created and ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return 1
`);
