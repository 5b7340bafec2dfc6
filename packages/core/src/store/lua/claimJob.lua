--[[
  A worker takes a job: it becomes the job's one writer (its owner), until
  another worker claims it (after a stall). Appends, notes, messages and the
  finish of a run check the owner, so a stale worker writes nothing.

  It also keeps count of the job's stalls (workers that died or lost the job
  under it) since it last stored an input: a job that keeps losing workers
  while it progresses goes on, one that makes none is given up.

  KEYS[1] meta hash
  KEYS[2] data stream
  ARGV[1] JSON {
            owner:      the BullMQ lock token of this run
            ttl:        retention in ms
            stalls:     BullMQ's count of the job's stalls so far
            max_stalls: the most stalls in a row without a new input before the job is given up
          }
  Returns: {status, detail}
    {OK, cancel requested (0 | 1)}
    {ENDED, final state}
    {MISSING, ''}                   (expired, or never created)
    {STALLED_OUT, stalls since the last new input}   (not claimed)
  Status codes: OK 1, ENDED 2, MISSING 3, STALLED_OUT 12 (store/status.ts).
]]
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {3, ''} end
local state = redis.call('HGET', KEYS[1], 'state')
if state then return {2, state} end
local stalls = a.stalls
local stored = redis.call('XLEN', KEYS[2])
local progress = redis.call('HMGET', KEYS[1], 'progress_stored', 'progress_stalls')
if not progress[1] or stored > tonumber(progress[1]) then
  -- New inputs since the last claim (or the first claim): the count starts again here.
  redis.call('HSET', KEYS[1], 'progress_stored', stored, 'progress_stalls', stalls)
elseif stalls - tonumber(progress[2]) > a.max_stalls then
  return {12, stalls - tonumber(progress[2])}
end
redis.call('HSET', KEYS[1], 'owner', a.owner)
redis.call('PEXPIRE', KEYS[1], a.ttl)
if redis.call('HGET', KEYS[1], 'cancel_requested') == '1' then return {1, 1} end
return {1, 0}
