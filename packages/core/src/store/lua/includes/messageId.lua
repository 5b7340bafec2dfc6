-- The id of the next entry of a job's messages stream. Message n has the id
-- 0-n; a job stored before messages were numbered keeps time-based ids,
-- which a 0-* id cannot follow.
local function messageId(key)
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if top[1] and string.sub(top[1][1], 1, 2) ~= '0-' then return '*' end
  return '0-*'
end
