--[[
  Adds a batch's accepted inputs to the job's dataset, for the run that holds
  the dataset's turn (its lock): the inputs were judged new against every
  input of the dataset, under that same turn, so the dataset never holds two
  alike. Checked: the turn is still this run's, and the job's inputs in the
  dataset are where the run left them.

  KEYS[1] items stream  dg:dataset:{<tenant>/<name>}:items
  KEYS[2] meta hash
  KEYS[3] jobs hash     (job id -> its inputs in the dataset)
  KEYS[4] lock string   (the turn's token)
  ARGV[1] JSON {
            token: the run's turn token
            job:   the job id
            at:    the job's inputs already in the dataset, as the run knows it
            max:   the most inputs the dataset may hold (0: no limit)
            now:   ms since epoch
          }
  ARGV[2..] the inputs, in order
  Returns: {status, detail}
    {OK 1, the dataset's count}
    {NOT_OWNER 4, ''}: the turn is no longer this run's (it expired)
    {OUT_OF_PLACE 5, the job's inputs in the dataset}
    {FULL 11, the dataset's count}
]]
local a = cjson.decode(ARGV[1])
if redis.call('GET', KEYS[4]) ~= a.token then return {4, ''} end
local mine = tonumber(redis.call('HGET', KEYS[3], a.job) or '0')
if mine ~= a.at then return {5, mine} end
local count = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
local n = #ARGV - 1
if a.max > 0 and count + n > a.max then return {11, count} end
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], '0-*', 'v', ARGV[i], 'j', a.job)
end
redis.call('HINCRBY', KEYS[3], a.job, n)
redis.call('HINCRBY', KEYS[2], 'count', n)
redis.call('HSET', KEYS[2], 'updated_at', a.now)
redis.call('HSETNX', KEYS[2], 'created_at', a.now)
return {1, count + n}
