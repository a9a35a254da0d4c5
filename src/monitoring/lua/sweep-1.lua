--[[
  Drops unfinished tasks enqueued before the cutoff whose job no longer exists (removed by hand, or
  an event was lost), and task names and queues no task uses any more.

  Input:
    KEYS[1] mon:all (not read through KEYS: it routes the call to the index's Cluster slot)

    ARGV[1] mon key prefix
    ARGV[2] BullMQ job key prefix
    ARGV[3] cutoff (ms)
    ARGV[4] at most this many per state

  Output:
    how many tasks were dropped
]]
--- @include "includes/forget"
local mp, jp, cutoff, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local dropped = 0
for _, state in ipairs({ 'PENDING', 'STARTED', 'PROGRESS', 'RETRY' }) do
  local ids = redis.call('ZRANGEBYSCORE', mp .. 'state:' .. state, '-inf', cutoff, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local json = redis.call('HGET', mp .. 'sum', id)
    local queue = nil
    if json then queue = cjson.decode(json).q end
    if not queue or redis.call('EXISTS', jp .. ':' .. queue .. ':' .. id) == 0 then
      forget(mp, id)
      dropped = dropped + 1
    end
  end
end
for _, kind in ipairs({ 'name', 'queue' }) do
  local set = mp .. kind .. 's'
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', cutoff, 'LIMIT', 0, 1000)) do
    if redis.call('EXISTS', mp .. kind .. ':' .. member) == 0 then redis.call('ZREM', set, member) end
  end
end
return dropped
