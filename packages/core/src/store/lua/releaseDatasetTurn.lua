--[[
  Ends a run's turn on its dataset, if it is still that run's.

  KEYS[1] lock string  dg:dataset:{<tenant>/<name>}:lock
  ARGV[1] the run's turn token
  Returns: 1 released, 0 it was no longer this run's
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
