--[[
  Adds a queued job to its tenant's indexes (every job, and the open ones),
  drops entries past the retention, renews the TTL.

  KEYS[1] the tenant's index of every job  dg:tenant:{<tenant>}:jobs
  KEYS[2] the tenant's index of open jobs  dg:tenant:{<tenant>}:open
  ARGV[1] job id
  ARGV[2] its creation time (ms): the score
  ARGV[3] the oldest score kept (now - retention)
  ARGV[4] retention in ms
  Returns: 1
]]
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[i], ARGV[4])
end
return 1
