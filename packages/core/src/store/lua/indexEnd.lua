--[[
  Moves an ended (or discarded, or forgotten) job out of its tenant's open
  index, releasing the inputs it counted against the tenant's quota, and,
  for an ended job, into the index of its final state (the lists filtered by
  state read these). Idempotent: a job released twice is released once.

  KEYS[1] the tenant's index of open jobs   dg:tenant:{<tenant>}:open
  KEYS[2] the tenant's quota hash           dg:tenant:{<tenant>}:quota
  KEYS[3] the tenant's index of jobs that ended in the state  dg:tenant:{<tenant>}:ended:<STATE>
          ('' in ARGV's state: none, the job did not end, it is dropped)
  ARGV[1] JSON {
            job:        the job id
            state:      DONE | ERROR | CANCELLED, or '' (discarded: leaves every index)
            created_at: its creation time (ms): the score
            oldest:     the oldest score kept (now - retention)
            ttl:        retention in ms
          }
  Returns: 1 when the job was open (and is released now), 0 otherwise
]]
local a = cjson.decode(ARGV[1])
local released = redis.call('ZREM', KEYS[1], a.job)
local n = redis.call('HGET', KEYS[2], 'n:' .. a.job)
if n then
  redis.call('HDEL', KEYS[2], 'n:' .. a.job)
  redis.call('HINCRBY', KEYS[2], 'inputs', -tonumber(n))
end
if a.state ~= '' then
  redis.call('ZADD', KEYS[3], a.created_at, a.job)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. a.oldest)
  redis.call('PEXPIRE', KEYS[3], a.ttl)
end
return released
