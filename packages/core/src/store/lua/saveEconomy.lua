--[[
  Stores an economy job's round state (model/economy.ts) before anything
  depends on it: "round k submitting" before the provider is asked, the
  provider batch id once it answered, each poll, the end of a round. With
  it, in the same step, the message that tells the user.

  KEYS[1] meta hash
  KEYS[2] messages stream
  ARGV[1] JSON {
            owner:        the run's owner token (claimJob.lua)
            economy:      the state, as JSON text
            message:      progress message ('' for none)
            max_messages: messages kept (MAXLEN ~)
            ttl:          retention in ms
          }
  Returns: status: OK 1, ENDED 2, MISSING 3, NOT_OWNER 4
]]
--- @include "includes/messageId"
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 3 end
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return 2 end
if redis.call('HGET', KEYS[1], 'owner') ~= a.owner then return 4 end
redis.call('HSET', KEYS[1], 'economy', a.economy)
if a.message ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', a.max_messages, messageId(KEYS[2]), 'm', a.message)
end
redis.call('PEXPIRE', KEYS[1], a.ttl)
redis.call('PEXPIRE', KEYS[2], a.ttl)
return 1
