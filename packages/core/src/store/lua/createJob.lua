--[[
  Records a new job: its meta hash and its first progress message, both with
  the retention TTL. The tenant's indexes are written by indexJob.lua once
  the job is queued (another hash tag, so another script).

  KEYS[1] meta hash       dg:job:{<job>}:meta
  KEYS[2] messages stream dg:job:{<job>}:messages
  ARGV[1] JSON {
            fields:  {<meta field>: <string value>, ...}  (tenant, request, n, created_at)
            message: the first progress message
            ttl:     retention in ms
          }
  Returns: 1
]]
local a = cjson.decode(ARGV[1])
for field, value in pairs(a.fields) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('XADD', KEYS[2], '0-*', 'm', a.message)
redis.call('PEXPIRE', KEYS[1], a.ttl)
redis.call('PEXPIRE', KEYS[2], a.ttl)
return 1
