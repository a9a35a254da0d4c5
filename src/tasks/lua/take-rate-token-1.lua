--[[
  Takes one start from a fixed-window rate limit.

  Input:
    KEYS[1] the counter of the current window

    ARGV[1] the limit
    ARGV[2] the window length (ms)

  Output:
    0 when a start is allowed, else the ms until the window ends
]]
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if used <= tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[2]) end
return ttl
