--[[
  Moves an ended job from its tenant's open index to the index of its final
  state (the lists filtered by state read these), dropping entries past the
  retention. Idempotent.

  KEYS[1] the tenant's index of open jobs        dg:tenant:{<tenant>}:open
  KEYS[2] the tenant's index of jobs that ended in the state  dg:tenant:{<tenant>}:ended:<STATE>
  ARGV[1] job id
  ARGV[2] its creation time (ms): the score
  ARGV[3] the oldest score kept (now - retention)
  ARGV[4] retention in ms
  Returns: 1
]]
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
