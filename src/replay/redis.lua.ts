// The Redis replay store's scripts (docs/spec.md §6.4), kept apart from the client code so the
// contract they implement can be read in one place. Redis >= 7.0: the `#!lua` shebang makes
// Redis refuse a script whole when it is out of memory (no half-applied call), and scripts
// replicate their effects, so reading TIME before writing is allowed.
//
// Keys, all under one hash tag `{PREFIX:AUDIENCE}` so a call touches one Cluster slot:
//   {..}:i            sorted set, the index: 's:floor' -> the store's floor; 'p:' + principal
//                     -> the highest expiry that principal's record holds. The floor member
//                     is also the marker: when it is missing, the store lost its data.
//   {..}:n:PRINCIPAL  sorted set, the principal's nonces: nonce -> expiry; '' -> the
//                     principal's floor (nonces are 16 bytes, never empty).

/**
 * Check-and-remember. KEYS: index, the principal's nonces. ARGV: principal, nonce, expiry,
 * share, restart floor offset (added to now when the store finds itself empty), the window
 * span (for key TTLs), the prefix of principals' keys, and a test clock ('' in production:
 * Redis's own TIME, one clock for every replica).
 *
 * Returns {verdict, reset, lost}: verdict 0 fresh, 1 replayed, 2 forgotten; reset 1 when the
 * store found it had lost its data; lost 1 when this principal's nonces had been lost.
 */
export const CHECK_AND_REMEMBER = `#!lua
local index, nonces = KEYS[1], KEYS[2]
local member, nonce = 'p:' .. ARGV[1], ARGV[2]
local expiry, share = tonumber(ARGV[3]), tonumber(ARGV[4])
local restart, span, prefix = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local now
if ARGV[8] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[8])
end

-- A missing floor means the store lost its data (a restart without persistence, FLUSHALL, a
-- failover to an empty replica, eviction) or was never used: refuse every request it might
-- have seen (spec 6.4, a store that starts empty).
local reset = 0
local floor = redis.call('ZSCORE', index, 's:floor')
if floor then
  floor = tonumber(floor)
else
  floor = now + restart
  redis.call('ZADD', index, floor, 's:floor')
  reset = 1
end
-- Each write below raises a floor before it forgets what the floor stands for.
local function raise(to)
  if to > floor then
    floor = to
    redis.call('ZADD', index, floor, 's:floor')
  end
end

-- Sweep: up to two principals whose every entry expired; their floors fold into the store's
-- (at most now).
local due = redis.call('ZRANGE', index, '-inf', now, 'BYSCORE', 'LIMIT', 0, 3, 'WITHSCORES')
for i = 1, #due, 2 do
  local m = due[i]
  if m ~= 's:floor' and m ~= member then
    raise(tonumber(due[i + 1]))
    redis.call('DEL', prefix .. string.sub(m, 3))
    redis.call('ZREM', index, m)
  end
end

-- This principal's expired entries, a bounded number per call: the store's floor rises.
local old = redis.call('ZRANGE', nonces, '-inf', now, 'BYSCORE', 'LIMIT', 0, 16, 'WITHSCORES')
if #old > 0 then
  raise(tonumber(old[#old]))
  local gone = {}
  for i = 1, #old, 2 do gone[#gone + 1] = old[i] end
  redis.call('ZREM', nonces, unpack(gone))
end

local lost = 0
local pfloor = redis.call('ZSCORE', nonces, '')
local size = redis.call('ZCARD', nonces)
if pfloor then
  pfloor = tonumber(pfloor)
  size = size - 1
else
  pfloor = 0
  local record = redis.call('ZSCORE', index, member)
  if size == 0 and record and tonumber(record) > now then
    -- The index lists this principal but its nonces are gone (evicted): everything it held
    -- expired at or below its record.
    pfloor = tonumber(record)
    redis.call('ZADD', nonces, pfloor, '')
    lost = 1
  end
end

if redis.call('ZSCORE', nonces, nonce) then return {1, reset, lost} end
if expiry <= floor or expiry <= now or expiry <= pfloor then return {2, reset, lost} end

-- At its share the principal forgets its own oldest (lowest expiry), raising only its own
-- floor. A request older than all it remembers is itself the oldest: refused, nothing forgotten.
if size >= share then
  local n = math.min(size - share + 1, 16)
  local low = redis.call('ZRANGE', nonces, 0, n, 'WITHSCORES')
  local victims, top = {}, pfloor
  for i = 1, #low, 2 do
    if low[i] ~= '' and #victims < n then
      victims[#victims + 1] = low[i]
      top = tonumber(low[i + 1])
    end
  end
  if expiry <= top then return {2, reset, lost} end
  if top > pfloor then redis.call('ZADD', nonces, top, '') end
  redis.call('ZREM', nonces, unpack(victims))
end

redis.call('ZADD', nonces, expiry, nonce)
local highest = tonumber(redis.call('ZRANGE', nonces, -1, -1, 'WITHSCORES')[2])
redis.call('ZADD', index, 'GT', highest, member)
-- A backstop only: the sweep removes the key once its record is past; if the key goes
-- earlier, the index still holds its record.
redis.call('PEXPIRE', nonces, math.floor(highest - now + span))
return {0, reset, lost}
`;

/**
 * Run when the store connects: a store found empty raises its floor now, at start-up, rather
 * than at its first request. KEYS: index. ARGV: restart floor offset, test clock or ''.
 * Returns 1 when it found the store empty.
 */
export const INITIALIZE = `#!lua
if redis.call('ZSCORE', KEYS[1], 's:floor') then return 0 end
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[2])
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), 's:floor')
return 1
`;

/**
 * Read-only figures for operators and the soak: {entries, principals, floor}. Walks the
 * index (one ZCARD per principal), so it is not for the request path.
 */
export const STATS = `#!lua flags=no-writes
local entries, principals, floor = 0, 0, 0
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local m = all[i]
  if m == 's:floor' then
    floor = tonumber(all[i + 1])
  else
    principals = principals + 1
    local key = ARGV[1] .. string.sub(m, 3)
    entries = entries + redis.call('ZCARD', key)
    if redis.call('ZSCORE', key, '') then entries = entries - 1 end
  end
end
return {entries, principals, tostring(floor)}
`;
