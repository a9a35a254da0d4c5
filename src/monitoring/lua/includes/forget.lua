--[[
  Removes one task from every index structure: forget(mp, id), mp the mon key prefix.
  Shared by trim, sweep and forget-ids.
]]
local function forget(mp, id)
  local json = redis.call('HGET', mp .. 'sum', id)
  if json then
    local ok, s = pcall(cjson.decode, json)
    if ok and type(s) == 'table' then
      if s.n then redis.call('ZREM', mp .. 'name:' .. s.n, id) end
      if s.q then redis.call('ZREM', mp .. 'queue:' .. s.q, id) end
      if s.s then redis.call('ZREM', mp .. 'state:' .. s.s, id) end
    end
  end
  redis.call('ZREM', mp .. 'all', id)
  redis.call('ZREM', mp .. 'exp', id)
  redis.call('HDEL', mp .. 'sum', id)
  redis.call('HDEL', mp .. 'args', id)
end
