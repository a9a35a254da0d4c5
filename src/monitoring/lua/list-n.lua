--[[
  One page of the task list, newest first (or oldest first), walking one index by rank from a cursor.
  The key count varies (one key per extra filter): the caller passes it.

  Input:
    KEYS[1] the index walked
    KEYS[2] mon:sum
    KEYS[3] mon:args
    KEYS[4…] indexes a task must also be in (other filters)

    ARGV[1] 'desc' | 'asc'
    ARGV[2] lowest score (ms or '-inf')
    ARGV[3] highest score (ms or '+inf')
    ARGV[4] cursor score ('' = from the start)
    ARGV[5] cursor task id
    ARGV[6] matches to skip (page offset)
    ARGV[7] page size
    ARGV[8] most entries examined when filtering or searching
    ARGV[9] search text (lower case; '' = none)

  Output:
    {total (-1 when filtering), complete (1 when the walk reached the end of the range),
     examined, last examined id, last examined score, then per match: id, score, summary, args}
    at most page size + 1 matches (the extra one says there is a next page)
]]
local walk, sums, args = KEYS[1], KEYS[2], KEYS[3]
local desc = ARGV[1] == 'desc'
local lo, hi = ARGV[2], ARGV[3]
local skip, size, window, needle = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
local filtering = #KEYS > 3 or needle ~= ''
local lon, hin = tonumber(lo), tonumber(hi)

local total = -1
if not filtering then
  if lo == '-inf' and hi == '+inf' then total = redis.call('ZCARD', walk) else total = redis.call('ZCOUNT', walk, lo, hi) end
end

local start = nil
if ARGV[5] ~= '' then
  if desc then start = redis.call('ZREVRANK', walk, ARGV[5]) else start = redis.call('ZRANK', walk, ARGV[5]) end
  if start then start = start + 1 end
end
if not start then
  if ARGV[4] ~= '' then
    if desc then start = redis.call('ZCOUNT', walk, ARGV[4], '+inf') else start = redis.call('ZCOUNT', walk, '-inf', ARGV[4]) end
  elseif desc then
    start = redis.call('ZCOUNT', walk, '(' .. hi, '+inf')
  else
    start = redis.call('ZCOUNT', walk, '-inf', '(' .. lo)
  end
end
if not filtering then start = start + skip; skip = 0 end

local out = {}
local matched, examined, complete = 0, 0, 0
local lastId, lastScore = '', ''
local chunk = size + 1
if filtering then chunk = 200 end
while true do
  local entries
  if desc then
    entries = redis.call('ZREVRANGE', walk, start, start + chunk - 1, 'WITHSCORES')
  else
    entries = redis.call('ZRANGE', walk, start, start + chunk - 1, 'WITHSCORES')
  end
  if #entries == 0 then complete = 1; break end
  local stop = false
  for j = 1, #entries, 2 do
    local id, score = entries[j], tonumber(entries[j + 1])
    if (desc and lon and score < lon) or ((not desc) and hin and score > hin) then complete = 1; stop = true; break end
    examined = examined + 1
    lastId, lastScore = id, entries[j + 1]
    local ok = true
    for k = 4, #KEYS do
      if not redis.call('ZSCORE', KEYS[k], id) then ok = false; break end
    end
    local text = nil
    if ok and needle ~= '' then
      text = redis.call('HGET', args, id)
      ok = string.find(string.lower(id), needle, 1, true) ~= nil or (text ~= false and text ~= nil and string.find(string.lower(text), needle, 1, true) ~= nil)
    end
    if ok then
      if skip > 0 then
        skip = skip - 1
      else
        matched = matched + 1
        out[#out + 1] = id
        out[#out + 1] = entries[j + 1]
        out[#out + 1] = redis.call('HGET', sums, id)
        out[#out + 1] = text or redis.call('HGET', args, id)
        if matched > size then stop = true; break end
      end
    end
    if filtering and examined >= window then stop = true; break end
  end
  if stop then break end
  if #entries < chunk * 2 then complete = 1; break end
  start = start + chunk
end
local head = { total, complete, examined, lastId, lastScore }
for _, v in ipairs(out) do head[#head + 1] = v end
return head
