--[[
  A worker takes a job: it becomes the job's one writer (its owner), until
  another worker claims it (after a stall). Appends, notes, messages and the
  finish of a run check the owner, so a stale worker writes nothing.

  KEYS[1] meta hash
  ARGV[1] owner: the BullMQ lock token of this run
  ARGV[2] retention in ms
  Returns: {status, detail}
    {OK, cancel requested (0 | 1)}
    {ENDED, final state}
    {MISSING, ''}                   (expired, or never created)
  Status codes: OK 1, ENDED 2, MISSING 3 (store/status.ts).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {3, ''} end
local state = redis.call('HGET', KEYS[1], 'state')
if state then return {2, state} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[1], 'cancel_requested') == '1' then return {1, 1} end
return {1, 0}
