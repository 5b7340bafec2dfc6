--[[
  Adds a progress message to a job that has not ended (the end marker is
  always the last entry of its messages stream).

  KEYS[1] meta hash
  KEYS[2] messages stream
  ARGV[1] JSON {
            owner:        the run's owner token; '' when the writer is not a run (the API)
            message:      the text (one line)
            max_messages: messages kept (MAXLEN ~)
            ttl:          retention in ms
          }
  Returns: status: OK 1, ENDED 2, MISSING 3, NOT_OWNER 4
]]
--- @include "includes/messageId"
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 3 end
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return 2 end
if a.owner ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= a.owner then return 4 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', a.max_messages, messageId(KEYS[2]), 'm', a.message)
redis.call('PEXPIRE', KEYS[1], a.ttl)
redis.call('PEXPIRE', KEYS[2], a.ttl)
return 1
