--[[
  Records one batch of a run in one step: its accepted inputs, appended at
  the position the writer expects (input n has the id 0-n); its usage and
  counts; its progress message. Answers the cancel flag, so a worker that
  missed the cancel's pub/sub message still learns it.

  KEYS[1] meta hash
  KEYS[2] data stream
  KEYS[3] messages stream
  KEYS[4] rejected stream
  ARGV[1] JSON {
            owner:        the run's owner token (claimJob.lua)
            at:           inputs the writer knows are stored: the batch goes after them
            incr:         {<meta field>: n, ...}  usage and counts to add
            set:          {<meta field>: text, ...}  fields to set with the batch (an economy job's round state), may be empty
            message:      progress message ('' for none)
            rejected:     [JSON of a rejected candidate, ...]
            max_messages: messages kept (MAXLEN ~)
            max_rejected: rejected candidates kept (MAXLEN ~, the newest)
            ttl:          retention in ms
          }
  ARGV[2..] the accepted inputs in order, each followed by its provenance (JSON, or '' for none):
            input 1, provenance 1, input 2, provenance 2, ...
  Returns: {status, length, cancel requested (0 | 1)}
    status OK 1: appended; length is the new number of inputs
    ENDED 2, MISSING 3: the job is over or gone
    NOT_OWNER 4: another run has claimed the job since
    OUT_OF_PLACE 5: the stream does not hold `at` inputs (a write of this run was lost or refused)
]]
--- @include "includes/messageId"
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {3, 0, 0} end
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return {2, 0, 0} end
if redis.call('HGET', KEYS[1], 'owner') ~= a.owner then return {4, 0, 0} end
local len = redis.call('XLEN', KEYS[2])
if len ~= a.at then return {5, len, 0} end
for i = 2, #ARGV, 2 do
  len = len + 1
  if ARGV[i + 1] ~= '' then
    redis.call('XADD', KEYS[2], '0-' .. len, 'v', ARGV[i], 'p', ARGV[i + 1])
  else
    redis.call('XADD', KEYS[2], '0-' .. len, 'v', ARGV[i])
  end
end
for _, entry in ipairs(a.rejected) do
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', a.max_rejected, '0-*', 'r', entry)
end
for field, n in pairs(a.incr) do
  redis.call('HINCRBY', KEYS[1], field, n)
end
for field, value in pairs(a.set or {}) do
  redis.call('HSET', KEYS[1], field, value)
end
if a.message ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', a.max_messages, messageId(KEYS[3]), 'm', a.message)
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], a.ttl) end
local cancel = 0
if redis.call('HGET', KEYS[1], 'cancel_requested') == '1' then cancel = 1 end
return {1, len, cancel}
