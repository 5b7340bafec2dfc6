--[[
  Ends a job, once: the one write of a terminal state. It happens in the same
  step as the check of the final data, so DONE is never written short of the
  job's target; a job whose cancel was accepted ends CANCELLED only; the last
  message and the end marker close the messages stream.

  KEYS[1] meta hash
  KEYS[2] data stream
  KEYS[3] messages stream
  KEYS[4] rejected stream
  ARGV[1] JSON {
            state:        DONE | ERROR | CANCELLED
            message:      the last progress message ('' for none)
            report:       JSON of the job's report ('' for none)
            owner:        the run's owner token; '' when the writer is not a run
            finished_at:  ms since epoch
            max_messages: messages kept (MAXLEN ~)
            ttl:          retention in ms
          }
  Returns: {status, detail, tenant, created_at, dataset}
    {OK 1, state, tenant, created_at, dataset ('' for none)}: ended now
    {ENDED 2, the state it had already ended in}
    {MISSING 3}
    {NOT_OWNER 4}: another run has claimed the job since
    {INCOMPLETE 6, inputs stored}: DONE asked with fewer inputs than the target
    {CANCEL_REQUESTED 7}: a cancel was accepted; end it CANCELLED instead
]]
--- @include "includes/messageId"
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {3, ''} end
local meta = redis.call('HMGET', KEYS[1], 'state', 'owner', 'cancel_requested', 'n', 'tenant', 'created_at', 'dataset')
if meta[1] then return {2, meta[1]} end
if a.owner ~= '' and meta[2] ~= a.owner then return {4, ''} end
if a.state ~= 'CANCELLED' and meta[3] == '1' then return {7, ''} end
if a.state == 'DONE' then
  local target = tonumber(meta[4])
  if not target then -- a job stored before `n` had a field of its own
    target = cjson.decode(redis.call('HGET', KEYS[1], 'request')).num_inputs_to_generate
  end
  local stored = redis.call('XLEN', KEYS[2])
  if stored ~= target then return {6, stored} end
end
redis.call('HSET', KEYS[1], 'state', a.state, 'finished_at', a.finished_at)
redis.call('HDEL', KEYS[1], 'owner')
if a.report ~= '' then redis.call('HSET', KEYS[1], 'report', a.report) end
if a.message ~= '' then redis.call('XADD', KEYS[3], 'MAXLEN', '~', a.max_messages, messageId(KEYS[3]), 'm', a.message) end
redis.call('XADD', KEYS[3], messageId(KEYS[3]), 'end', a.state)
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], a.ttl) end
return {1, a.state, meta[5], meta[6], meta[7] or ''}
