--[[
  Counts an upload request and reserves the bytes it announces, all or nothing.

  Input:
    KEYS[1] the client's request counter
    KEYS[2] its byte counter

    ARGV[1] requests allowed (0: no limit)
    ARGV[2] request window (ms)
    ARGV[3] bytes allowed (0: no limit)
    ARGV[4] byte window (ms)
    ARGV[5] bytes the request announces (Content-Length, or 0)

  Output:
    {0, reserved} when admitted, {1, ms} when over the request limit, {2, ms} when the announced
    bytes do not fit in what is left (or nothing is left); ms is the time until that window ends
]]
local function left(key, window)
  local t = redis.call('PTTL', key)
  if t < 0 then return tonumber(window) end
  return t
end
if tonumber(ARGV[1]) > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  if n > tonumber(ARGV[1]) then return {1, left(KEYS[1], ARGV[2])} end
end
local announced = tonumber(ARGV[5])
if tonumber(ARGV[3]) > 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used + math.max(1, announced) > tonumber(ARGV[3]) then return {2, left(KEYS[2], ARGV[4])} end
  if announced > 0 then
    redis.call('INCRBY', KEYS[2], announced)
    if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
    return {0, announced}
  end
end
return {0, 0}
