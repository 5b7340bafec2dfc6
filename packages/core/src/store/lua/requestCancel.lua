--[[
  Flags a job cancelled, unless it has already ended. The caller then tells
  the workers (PUBLISH) and, if the job is still queued, ends it itself.

  KEYS[1] meta hash
  ARGV[1] retention in ms
  Returns: {status, detail}
    {OK 1, ''}: flagged (or already flagged)
    {ENDED 2, the state it ended in}
    {MISSING 3, ''}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {3, ''} end
local state = redis.call('HGET', KEYS[1], 'state')
if state then return {2, state} end
redis.call('HSET', KEYS[1], 'cancel_requested', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {1, ''}
