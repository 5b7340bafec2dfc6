--[[
  Keeps a run's notes (its themes, a seedless job's own seeds), so a job
  resumed after a crash reuses them.

  KEYS[1] meta hash
  ARGV[1] JSON {
            owner:  the run's owner token
            fields: {<meta field>: <string value>, ...}
            ttl:    retention in ms
          }
  Returns: status: OK 1, ENDED 2, MISSING 3, NOT_OWNER 4
]]
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 3 end
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return 2 end
if redis.call('HGET', KEYS[1], 'owner') ~= a.owner then return 4 end
for field, value in pairs(a.fields) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('PEXPIRE', KEYS[1], a.ttl)
return 1
