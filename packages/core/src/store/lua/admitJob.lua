--[[
  Admits a new job of a tenant, all or nothing: checks the tenant's quotas
  (unfinished jobs, the inputs they ask for, submits a minute), then lists
  the job in the tenant's indexes (every job, open jobs) and counts its
  inputs. Answers the job's rank among the tenant's unfinished jobs: its
  priority in the queue, so that keys take turns (1 goes first).
  Entries past the retention are dropped first (open ones with their inputs).

  KEYS[1] the tenant's index of every job   dg:tenant:{<tenant>}:jobs
  KEYS[2] the tenant's index of open jobs   dg:tenant:{<tenant>}:open
  KEYS[3] the tenant's quota hash           dg:tenant:{<tenant>}:quota
          fields: inputs (inputs of unfinished jobs), n:<job> (each one's),
                  s/st (submit bucket level, and when it was computed, ms)
  ARGV[1] JSON {
            job:        the job id
            created_at: its creation time (ms): the score
            n:          inputs it asks for
            oldest:     the oldest score kept (now - retention)
            ttl:        retention in ms
            max_open:   unfinished jobs the tenant may have (0: no limit)
            max_inputs: inputs its unfinished jobs may ask for in all (0: no limit)
            per_minute: submits a minute (0: no limit); a burst of ten seconds' worth
          }
  Returns: {status, detail}
    {OK 1, rank}
    {OVER_OPEN 8, unfinished jobs}
    {OVER_INPUTS 9, inputs of unfinished jobs}
    {OVER_RATE 10, ms until the next submit is allowed}
]]
local a = cjson.decode(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Past the retention: forget them (an open one, never run, with its inputs).
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. a.oldest)
for _, job in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. a.oldest)) do
  local n = tonumber(redis.call('HGET', KEYS[3], 'n:' .. job) or '0')
  redis.call('HDEL', KEYS[3], 'n:' .. job)
  redis.call('HINCRBY', KEYS[3], 'inputs', -n)
  redis.call('ZREM', KEYS[2], job)
end

local open = redis.call('ZCARD', KEYS[2])
if a.max_open > 0 and open >= a.max_open then return {8, open} end
local inputs = tonumber(redis.call('HGET', KEYS[3], 'inputs') or '0')
if a.max_inputs > 0 and inputs + a.n > a.max_inputs then return {9, inputs} end

local level, at = nil, nil
if a.per_minute > 0 then
  local capacity = math.max(1, math.floor(a.per_minute / 6))
  local s = redis.call('HMGET', KEYS[3], 's', 'st')
  level = capacity
  if s[1] then level = math.min(capacity, tonumber(s[1]) + math.max(0, now - tonumber(s[2])) * a.per_minute / 60000) end
  if level < 1 then return {10, math.ceil((1 - level) * 60000 / a.per_minute)} end
  redis.call('HSET', KEYS[3], 's', level - 1, 'st', now)
end

redis.call('ZADD', KEYS[1], a.created_at, a.job)
redis.call('ZADD', KEYS[2], a.created_at, a.job)
redis.call('HSET', KEYS[3], 'n:' .. a.job, a.n)
redis.call('HINCRBY', KEYS[3], 'inputs', a.n)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], a.ttl) end
return {1, open + 1}
