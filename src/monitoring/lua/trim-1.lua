--[[
  Drops finished tasks whose retention has passed (the same ages BullMQ removes their jobs at).

  Input:
    KEYS[1] mon:exp (not read through KEYS: it routes the call to the index's Cluster slot)

    ARGV[1] mon key prefix
    ARGV[2] now (ms)
    ARGV[3] at most this many

  Output:
    how many were dropped
]]
--- @include "includes/forget"
local mp = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', mp .. 'exp', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do forget(mp, id) end
return #ids
