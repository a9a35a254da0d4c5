--[[
  Gives back bytes reserved but not used (never below 0, never to an expired window).

  Input:
    KEYS[1] the client's byte counter

    ARGV[1] bytes reserved but not used

  Output:
    the bytes given back
]]
local used = tonumber(redis.call('GET', KEYS[1]) or false)
if not used then return 0 end
local back = math.min(used, tonumber(ARGV[1]))
if back > 0 then redis.call('DECRBY', KEYS[1], back) end
return back
