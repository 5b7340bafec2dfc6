--[[
  Reads a job in one step, so its state, counts and data agree: the fields
  asked for, the number of inputs stored, the inputs after the first
  `items_from`, and the messages after message `messages_after`.

  KEYS[1] meta hash
  KEYS[2] data stream
  KEYS[3] messages stream
  ARGV[1] JSON {
            fields:         [<meta field>, ...]
            items_from:     inputs the reader has already; -1 reads none
            messages_after: the last message number the reader has (0: from the start);
                            -1 reads none, -2 only the last `last_messages` messages
            last_messages:  with messages_after -2
          }
  Returns: {field values (in the order asked), inputs stored, inputs read,
            message entries read as {number, kind ('m' | 'end'), text or state} ..., number of the first message kept}
           or {} when the job does not exist
]]
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local values = redis.call('HMGET', KEYS[1], unpack(a.fields))
-- A job stored before `n` had a field of its own: take it from its request.
for i, field in ipairs(a.fields) do
  if field == 'n' and not values[i] then
    local request = redis.call('HGET', KEYS[1], 'request')
    if request then values[i] = tostring(cjson.decode(request).num_inputs_to_generate) end
  end
end
local stored = redis.call('XLEN', KEYS[2])

local items = {}
if a.items_from >= 0 and a.items_from < stored then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '(0-' .. a.items_from, '+')) do
    items[#items + 1] = entry[2][2]
  end
end

-- Message n has the id 0-n. A job stored before messages were numbered has time-based ids:
-- its entries are numbered by their place in this read (and the reader reads them all again).
local function seq(id)
  local ms, n = string.match(id, '^(%d+)%-(%d+)$')
  if ms == '0' then return tonumber(n) end
  return nil
end
local messages = {}
local entries = {}
if a.messages_after >= 0 then
  entries = redis.call('XRANGE', KEYS[3], '(0-' .. a.messages_after, '+')
elseif a.messages_after == -2 then
  -- the newest entries, newest first: keep the last texts, in order
  local newest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', a.last_messages + 1)
  for i = #newest, 1, -1 do entries[#entries + 1] = newest[i] end
end
for i, entry in ipairs(entries) do
  messages[#messages + 1] = {seq(entry[1]) or i, entry[2][1], entry[2][2]}
end
local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
local firstSeq = 0
if first[1] then firstSeq = seq(first[1][1]) or 1 end
return {values, stored, items, messages, firstSeq}
