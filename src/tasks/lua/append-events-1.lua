--[[
  Appends a batch of entries to seler's event stream, in order.

  Input:
    KEYS[1] the stream

    ARGV[1] its approximate MAXLEN
    then per entry: the number of field/value items n, followed by those n items

  Output:
    the entries' ids
]]
local i = 2
local ids = {}
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return ids
