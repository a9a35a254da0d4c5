--[[
  Counting one event (shared by apply and backfill): the cluster-wide totals, the cumulative runtime
  histogram (successful runs), and the per-minute series and runtime histograms (kept minutesKept).
  Reads the locals mp, bounds, now, minutesKept, minuteKeys (minute key → expiry, set once per batch),
  so it is included after they are declared.
]]
local LOG2 = math.log(2)
local function count(name, queue, typ, ts, rt)
  redis.call('HINCRBY', mp .. 'totals', typ .. '|' .. name, 1)
  if rt then
    local b = #bounds + 1
    for k = 1, #bounds do if rt <= bounds[k] then b = k; break end end
    redis.call('HINCRBY', mp .. 'rt', name .. '|' .. b, 1)
    redis.call('HINCRBY', mp .. 'rt', name .. '|count', 1)
    redis.call('HINCRBY', mp .. 'rt', name .. '|ms', math.floor(rt))
  end
  local minute = math.floor(ts / 60000)
  if minute * 60000 > now - minutesKept then
    local mk = mp .. 'm:' .. minute
    redis.call('HINCRBY', mk, typ, 1)
    if typ == 'succeeded' or typ == 'failed' then redis.call('HINCRBY', mk, 'd:' .. queue, 1) end
    if rt then
      local fine = 0
      if rt > 1 then fine = math.ceil(4 * math.log(rt) / LOG2 - 1e-9) end
      redis.call('HINCRBY', mk, 'h:' .. name .. '|' .. fine, 1)
      redis.call('HINCRBY', mk, 'c:' .. name, 1)
      redis.call('HINCRBY', mk, 's:' .. name, math.floor(rt))
      local max = tonumber(redis.call('HGET', mk, 'x:' .. name))
      if not max or rt > max then redis.call('HSET', mk, 'x:' .. name, math.floor(rt)) end
    end
    minuteKeys[mk] = minute * 60000 + minutesKept
  end
end
