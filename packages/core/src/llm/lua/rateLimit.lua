--[[
  The shared LLM rate limits, whole: reading, refilling and taking from both
  token buckets (requests/min, tokens/min) is one atomic step across all
  worker processes. The clock is Redis's (TIME), so workers with skewed
  clocks agree. A take that is refused changes nothing and says how long to
  wait, so callers sleep rather than poll. The token bucket may go below zero
  (a call bigger than what is left, or a correction after a call that used
  more than estimated): later calls wait for it to refill, so the rate holds
  over time. A call never needs more than a full bucket, so a call bigger
  than the capacity still goes.

  KEYS[1] the limits hash  dg:llm-rate:{limits}
          fields: r/rt request bucket level and when it was computed (ms),
                  t/tt the same for tokens, cd the cooldown end (ms)
  ARGV[1] JSON {
            mode:   'take' | 'adjust' | 'cooldown'
            rpm:    requests per minute (0: unlimited); rcap: the request bucket's size
            tpm:    tokens per minute (0: unlimited);   tcap: the token bucket's size
            amount: tokens to take (take); tokens to give back, negative to charge more (adjust); ms (cooldown)
            ttl:    the key's TTL when idle, in ms
            tenant: the key (tenant id) the call is for ('' for none)
            fair:   with a tenant (take): hold each key to its share of the request budget
                    (rpm / keys active in the last minute) while other keys are active too
          }
          fields of the fair share: a:<tenant> when the key last asked (ms), k/kt:<tenant> its own
          request bucket; a key idle for ten minutes is forgotten
  Returns: {granted (0 | 1), wait ms, now ms, cooldown end ms}
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = cjson.decode(ARGV[1])
local mode = a.mode
local rpm, rcap = a.rpm, a.rcap
local tpm, tcap = a.tpm, a.tcap
local amount, ttl = a.amount, a.ttl
local s = redis.call('HMGET', KEYS[1], 'r', 'rt', 't', 'tt', 'cd')
local cd = tonumber(s[5]) or 0

local function level(stored, at, rate, cap)
  if not stored then return cap end
  local l = tonumber(stored) + math.max(0, now - tonumber(at)) * rate / 60000
  if l > cap then return cap end
  return l
end

local function keep()
  local ms = ttl
  if cd > now and cd - now + 1000 > ms then ms = cd - now + 1000 end
  redis.call('PEXPIRE', KEYS[1], math.ceil(ms))
end

if mode == 'cooldown' then
  if now + amount > cd then
    cd = now + amount
    redis.call('HSET', KEYS[1], 'cd', cd)
  end
  keep()
  return {1, math.max(0, cd - now), now, cd}
end

if mode == 'adjust' then
  if tpm > 0 then
    local t = math.min(tcap, level(s[3], s[4], tpm, tcap) + amount)
    redis.call('HSET', KEYS[1], 't', t, 'tt', now)
    keep()
  end
  return {1, 0, now, cd}
end

local wait = 0
if cd > now then wait = cd - now end

-- A key's share: while several keys ask, each may take rpm / (keys active) a minute.
local kr, krate, kcap = nil, 0, 0
local tenant = a.tenant or ''
if rpm > 0 and a.fair and tenant ~= '' then
  redis.call('HSET', KEYS[1], 'a:' .. tenant, now)
  local fields = redis.call('HGETALL', KEYS[1])
  local active = 0
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'a:' then
      local idle = now - tonumber(fields[i + 1])
      if idle < 60000 then
        active = active + 1
      elseif idle > 600000 then
        local who = string.sub(fields[i], 3)
        redis.call('HDEL', KEYS[1], fields[i], 'k:' .. who, 'kt:' .. who)
      end
    end
  end
  if active > 1 then
    krate, kcap = rpm / active, math.max(1, rcap / active)
    local ks = redis.call('HMGET', KEYS[1], 'k:' .. tenant, 'kt:' .. tenant)
    kr = level(ks[1], ks[2], krate, kcap)
    if kr < 1 then wait = math.max(wait, math.ceil((1 - kr) * 60000 / krate)) end
  end
end

local r, t = 0, 0
if rpm > 0 then
  r = level(s[1], s[2], rpm, rcap)
  if r < 1 then wait = math.max(wait, math.ceil((1 - r) * 60000 / rpm)) end
end
if tpm > 0 then
  t = level(s[3], s[4], tpm, tcap)
  local need = math.min(amount, tcap)
  if t < need then wait = math.max(wait, math.ceil((need - t) * 60000 / tpm)) end
end
if wait > 0 then return {0, wait, now, cd} end
if rpm > 0 then redis.call('HSET', KEYS[1], 'r', r - 1, 'rt', now) end
if kr then redis.call('HSET', KEYS[1], 'k:' .. tenant, kr - 1, 'kt:' .. tenant, now) end
if tpm > 0 then redis.call('HSET', KEYS[1], 't', t - amount, 'tt', now) end
keep()
return {1, 0, now, cd}
