--[[
  Reserves bytes of the upload budget while files stream in. When at least the needed bytes fit,
  grants them plus credit ahead, at most a slice and at most a sixteenth of the room left, so parallel
  uploads near the end of the budget do not starve each other with unused reservations.

  Input:
    KEYS[1] the client's byte counter

    ARGV[1] bytes needed now
    ARGV[2] the most to reserve ahead (a slice)
    ARGV[3] bytes allowed
    ARGV[4] window (ms)

  Output:
    {granted, 0}; else {-1, ms until the window ends}
]]
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local room = tonumber(ARGV[3]) - used
local need = tonumber(ARGV[1])
if room < need then
  local t = redis.call('PTTL', KEYS[1])
  if t < 0 then t = tonumber(ARGV[4]) end
  return {-1, t}
end
local grant = math.max(need, math.min(tonumber(ARGV[2]), math.floor(room / 16)))
redis.call('INCRBY', KEYS[1], grant)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return {grant, 0}
