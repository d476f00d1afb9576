-- Switchyard's limits in Redis: one script, one round trip per call. ARGV[1] names the call:
-- reserve, settle, look or sweep. Time is Redis's own (TIME), so every replica counts on one
-- clock. Times are microseconds since BASE (a recent epoch, so doubles keep sub-microsecond
-- precision); rates keep their theoretical arrival time (TAT) in those units.
--
-- Keys (under the prefix in ARGV[2]): c:<counter> a rate's TAT (string), a budget's
-- {used, reserved} (hash) or a concurrency limit's holders (sorted set by expiry);
-- r:<id> an open reservation (its lines, JSON); d:<id> an ended one ("s" settled, or "e" and
-- its lines when it expired, so a late settlement still charges); expiry: open ids by expiry.

local BASE = 1700000000000000
local REMEMBER_MS = 3600000
local KEEP_BUDGET_MS = 35 * 86400 * 1000

local call = ARGV[1]
local P = ARGV[2]
local t = redis.call('TIME')
local now = (tonumber(t[1]) * 1000000 + tonumber(t[2])) - BASE

-- A line: {counter, kind ('r' rate, 'c' calendar, 's' slots), amount, window_us or end_us
-- (absolute), reserve, enforce, settles}.

local function rate_state(key)
  return tonumber(redis.call('GET', key) or '0') or 0
end

local function rate_set(key, tat, window)
  local ahead_ms = math.ceil((tat - now) / 1000)
  if ahead_ms < 1 then
    redis.call('DEL', key)
  else
    redis.call('SET', key, string.format('%.17g', tat), 'PX', ahead_ms + math.ceil(window / 1000))
  end
end

local function state_of(l)
  local key = P .. 'c:' .. l[1]
  local kind, amount, w = l[2], l[3], l[4]
  if kind == 'r' then
    local tat = rate_state(key)
    local per = w / amount
    local ahead = math.max(tat - now, 0)
    return amount - math.ceil(ahead / per - 1e-9), math.ceil(ahead), 0
  elseif kind == 'c' then
    local used = tonumber(redis.call('HGET', key, 'used') or '0')
    local reserved = tonumber(redis.call('HGET', key, 'reserved') or '0')
    return amount - used - reserved, math.max(math.ceil(w - BASE - now), 0), reserved
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local held = redis.call('ZCARD', key)
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local reset = 0
    if first[2] then reset = math.max(math.ceil(tonumber(first[2]) - now), 0) end
    return amount - held, reset, 0
  end
end

-- Whether line l fits; when not: retry-after (-1: none), reset, too large (0/1).
local function check(l)
  local key = P .. 'c:' .. l[1]
  local kind, amount, w, n = l[2], l[3], l[4], l[5]
  if kind == 'r' then
    if n > amount then
      local _, reset = state_of(l)
      return false, -1, reset, 1
    end
    local tat = rate_state(key)
    local per = w / amount
    local nxt = math.max(tat, now) + n * per
    if nxt <= now + w + 1e-6 then return true end
    return false, math.max(math.ceil(nxt - w - now - 1e-6), 1), math.ceil(math.max(tat - now, 0)), 0
  elseif kind == 'c' then
    local used = tonumber(redis.call('HGET', key, 'used') or '0')
    local reserved = tonumber(redis.call('HGET', key, 'reserved') or '0')
    if used + reserved + n <= amount then return true end
    local big = 0
    if n > amount then big = 1 end
    return false, -1, math.max(math.ceil(w - BASE - now), 0), big
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    if redis.call('ZCARD', key) < amount then return true end
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local wait = math.max(math.ceil(tonumber(first[2]) - now), 1)
    local big = 0
    if amount == 0 then big = 1 end
    return false, wait, wait, big
  end
end

local function apply(l, id, expires)
  local key = P .. 'c:' .. l[1]
  local kind, amount, w, n, settles = l[2], l[3], l[4], l[5], l[7]
  if kind == 'r' then
    local tat = math.max(rate_state(key), now) + n * (w / amount)
    rate_set(key, tat, w)
  elseif kind == 'c' then
    if settles == 1 then
      redis.call('HINCRBY', key, 'reserved', n)
    else
      redis.call('HINCRBY', key, 'used', n)
    end
    redis.call('PEXPIREAT', key, math.ceil((w + KEEP_BUDGET_MS * 1000) / 1000))
  else
    redis.call('ZADD', key, expires, id)
    redis.call('PEXPIRE', key, math.ceil((expires - now) / 1000) + 1000)
  end
end

-- Ends a held line: charges `used` (or nothing), gives back the rest; `released` when the
-- reservation was already given back (a late settlement charges only).
local function finish(l, id, used, released)
  local key = P .. 'c:' .. l[1]
  local kind, amount, w, n, settles = l[2], l[3], l[4], l[5], l[7]
  if kind == 's' then
    if not released then redis.call('ZREM', key, id) end
    return
  end
  if settles ~= 1 then return end
  local reserved = n
  if released then reserved = 0 end
  if kind == 'r' then
    local per = w / amount
    local tat = math.max(rate_state(key), now)
    if used >= reserved then
      tat = tat + (used - reserved) * per
    else
      tat = math.max(tat - (reserved - used) * per, now)
    end
    rate_set(key, tat, w)
  else
    if reserved > 0 then redis.call('HINCRBY', key, 'reserved', -reserved) end
    if used > 0 then redis.call('HINCRBY', key, 'used', used) end
    redis.call('PEXPIREAT', key, math.ceil((w + KEEP_BUDGET_MS * 1000) / 1000))
  end
end

local function sweep(max)
  local due = redis.call('ZRANGEBYSCORE', P .. 'expiry', '-inf', now, 'LIMIT', 0, max)
  for _, id in ipairs(due) do
    local doc = redis.call('GET', P .. 'r:' .. id)
    if doc then
      local lines = cjson.decode(doc)
      for _, l in ipairs(lines) do finish(l, id, 0, false) end
      redis.call('DEL', P .. 'r:' .. id)
      redis.call('SET', P .. 'd:' .. id, 'e' .. doc, 'PX', REMEMBER_MS)
    end
    redis.call('ZREM', P .. 'expiry', id)
  end
  return #due
end

local function lines_from(start)
  local n = tonumber(ARGV[start])
  local out = {}
  local i = start + 1
  for k = 1, n do
    local l = {ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])}
    -- Budgets' ends come as absolute µs.
    out[k] = l
    i = i + 7
  end
  return out
end

if call == 'sweep' then
  return sweep(tonumber(ARGV[3]))
end

if call == 'look' then
  local lines = lines_from(3)
  local out = {}
  for _, l in ipairs(lines) do
    local remaining, reset, reserved = state_of(l)
    table.insert(out, remaining)
    table.insert(out, reset)
    table.insert(out, reserved)
  end
  return out
end

if call == 'reserve' then
  sweep(16)
  local id, ttl = ARGV[3], tonumber(ARGV[4])
  if redis.call('EXISTS', P .. 'r:' .. id) == 1 or redis.call('EXISTS', P .. 'd:' .. id) == 1 then
    return {'dup'}
  end
  local lines = lines_from(5)
  local best = nil
  local over = {}
  for i, l in ipairs(lines) do
    local ok, retry, reset, big = check(l)
    over[i] = 0
    if not ok then
      if l[6] == 1 then
        -- A budget (or a request that can never fit) first, then the longest wait.
        local budget = 0
        if l[2] == 'c' or big == 1 then budget = 1 end
        local wait = retry
        if wait < 0 then wait = reset end
        if best == nil or budget > best[5] or (budget == best[5] and wait > best[6]) then
          best = {i - 1, retry, reset, big, budget, wait}
        end
      else
        over[i] = 1
      end
    end
  end
  if best ~= nil then
    return {'denied', best[1], best[2], best[3], best[4]}
  end
  local expires = now + ttl
  for _, l in ipairs(lines) do apply(l, id, expires) end
  redis.call('SET', P .. 'r:' .. id, cjson.encode(lines), 'PX', math.ceil(ttl / 1000) + REMEMBER_MS)
  redis.call('ZADD', P .. 'expiry', expires, id)
  local out = {'ok'}
  for i, l in ipairs(lines) do
    local remaining, reset, reserved = state_of(l)
    table.insert(out, remaining)
    table.insert(out, reset)
    table.insert(out, over[i])
    table.insert(out, reserved)
  end
  return out
end

if call == 'settle' then
  local id = ARGV[3]
  local used = cjson.decode(ARGV[4])
  local doc = redis.call('GET', P .. 'r:' .. id)
  if doc then
    local lines = cjson.decode(doc)
    for i, l in ipairs(lines) do finish(l, id, used[i] or 0, false) end
    redis.call('DEL', P .. 'r:' .. id)
    redis.call('ZREM', P .. 'expiry', id)
    redis.call('SET', P .. 'd:' .. id, 's', 'PX', REMEMBER_MS)
    return 1
  end
  local ended = redis.call('GET', P .. 'd:' .. id)
  if ended and string.sub(ended, 1, 1) == 'e' then
    local lines = cjson.decode(string.sub(ended, 2))
    for i, l in ipairs(lines) do finish(l, id, used[i] or 0, true) end
    redis.call('SET', P .. 'd:' .. id, 's', 'PX', REMEMBER_MS)
    return 2
  end
  return 0
end

return redis.error_reply('unknown call ' .. tostring(call))
