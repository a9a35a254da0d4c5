--[[
  Applies a batch of task events, each exactly once: the entry is acknowledged (XACK) in the same
  script, and an entry another consumer already acknowledged is skipped. Events of one task may be
  applied out of order (two consumers, or two streams): the state follows the newest stream id seen
  for the task (every stream's ids are Redis's clock). Every key shares the `{prefix}` hash tag.

  Input:
    KEYS[1] the event stream the batch came from

    ARGV[1] consumer group ('' = apply without acknowledging)
    ARGV[2] mon key prefix ("{p}:mon:")
    ARGV[3] BullMQ job key prefix ("{p}")
    ARGV[4] now (ms)
    ARGV[5] success retention (ms)
    ARGV[6] failure retention (ms)
    ARGV[7] Prometheus bucket bounds in ms (comma list)
    ARGV[8] per-minute data kept (ms)
    ARGV[9] the job hash's fields (JOB_FIELDS, comma list: name, created, started, finished, failed reason, attempts, data)
    then 7 per event: stream id, type, task id, task name, queue, ts (ms), data JSON ('' for none)

  Output:
    the number of events applied
]]
local group, mp, jp = ARGV[1], ARGV[2], ARGV[3]
local minuteKeys = {}
local JF = {}
for field in string.gmatch(ARGV[9], '[^,]+') do JF[#JF + 1] = field end
local now, keepOk, keepFail, minutesKept = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[8])
local bounds = {}
for b in string.gmatch(ARGV[7], '[^,]+') do bounds[#bounds + 1] = tonumber(b) end
local STATE = { sent = 'PENDING', received = 'PENDING', started = 'STARTED', progress = 'PROGRESS', retried = 'RETRY', succeeded = 'SUCCESS', failed = 'FAILURE', revoked = 'REVOKED' }
local FINAL = { SUCCESS = true, FAILURE = true, REVOKED = true }
local COUNTED = { sent = true, succeeded = true, failed = true, retried = true, revoked = true }
--- @include "includes/count"

local function sid_lt(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am) or 0, tonumber(bm) or 0
  if am ~= bm then return am < bm end
  return (tonumber(as) or 0) < (tonumber(bs) or 0)
end
local function short(text)
  if type(text) ~= 'string' then return nil end
  return string.sub(text, 1, 300)
end

local applied = 0
-- Written once per batch: names and queues seen (latest time); minuteKeys above.
local seenNames, seenQueues = {}, {}
for i = 10, #ARGV, 7 do
  local sid, typ, id, name, queue = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local ts = tonumber(ARGV[i + 5]) or now
  local raw = ARGV[i + 6]
  if id ~= '' and (group == '' or redis.call('XACK', KEYS[1], group, sid) == 1) then
    applied = applied + 1
    local data = {}
    if raw ~= '' then
      local ok, decoded = pcall(cjson.decode, raw)
      if ok and type(decoded) == 'table' then data = decoded end
    end
    local json = redis.call('HGET', mp .. 'sum', id)
    local s
    if json then
      s = cjson.decode(json)
    else
      -- First event seen for this task: the job hash gives its enqueue time and arguments.
      local job = jp .. ':' .. queue .. ':' .. id
      local fields = redis.call('HMGET', job, JF[2], JF[7])
      s = { n = name, q = queue, t0 = tonumber(fields[1]) or ts, tl = {} }
      if fields[2] then redis.call('HSET', mp .. 'args', id, string.sub(fields[2], 1, 300)) end
      redis.call('ZADD', mp .. 'all', s.t0, id)
      redis.call('ZADD', mp .. 'name:' .. name, s.t0, id)
      redis.call('ZADD', mp .. 'queue:' .. queue, s.t0, id)
    end
    if (seenNames[s.n] or 0) < ts then seenNames[s.n] = ts end
    if (seenQueues[s.q] or 0) < ts then seenQueues[s.q] = ts end

    local newer = (s.sid == nil) or sid_lt(s.sid, sid)
    local extra = nil
    if typ == 'sent' then
      if data.eta and (newer or s.eta == nil) then s.eta = tonumber(data.eta) end
    elseif typ == 'received' then
      if data.eta and newer then s.eta = tonumber(data.eta) end
    elseif typ == 'started' then
      if newer or s.t1 == nil then
        s.t1 = ts
        s.w = data.worker
        s.at = tonumber(data.attempt)
      end
      if newer then s.t2 = nil; s.rt = nil end
      extra = data.worker
    elseif typ == 'retried' then
      s.r = (s.r or 0) + 1
      extra = short(data.message)
      if data.by then extra = 'by ' .. tostring(data.by) elseif newer then s.e = extra end
    elseif typ == 'succeeded' then
      if newer or s.t2 == nil then s.t2 = ts; s.rt = tonumber(data.runtimeMs) end
      -- A success ends the story: an earlier attempt's error is history (the timeline keeps it).
      if newer then s.e = nil end
    elseif typ == 'failed' then
      extra = short(data.message)
      if newer or s.t2 == nil then s.t2 = ts; s.e = extra; s.rt = tonumber(data.runtimeMs) end
    elseif typ == 'revoked' then
      extra = short(data.reason)
      if newer or s.t2 == nil then s.t2 = ts; s.e = extra end
    end

    -- received: a worker holds the task back (a rate limit); it changes the state, not the timeline.
    if typ ~= 'progress' and typ ~= 'received' then
      if type(s.tl) ~= 'table' then s.tl = {} end
      local tl = s.tl
      -- sent: when the job was built.
      local at = ts
      if typ == 'sent' then at = math.min(s.t0, ts) end
      tl[#tl + 1] = { typ, at, extra }
      local j = #tl
      while j > 1 and tl[j - 1][2] > tl[j][2] do tl[j - 1], tl[j] = tl[j], tl[j - 1]; j = j - 1 end
      if #tl > 20 then table.remove(tl, 2) end
    end

    local state = STATE[typ]
    -- A revoked task is still taken by a worker (BullMQ's start) to be discarded: it stays revoked.
    if state == 'STARTED' and s.s == 'REVOKED' then state = nil end
    if state and newer then
      if s.s and s.s ~= state then redis.call('ZREM', mp .. 'state:' .. s.s, id) end
      redis.call('ZADD', mp .. 'state:' .. state, s.t0, id)
      s.s = state
      s.sid = sid
      if FINAL[state] then
        local keep = keepFail
        if state == 'SUCCESS' then keep = keepOk end
        redis.call('ZADD', mp .. 'exp', (s.t2 or ts) + keep, id)
      else
        redis.call('ZREM', mp .. 'exp', id)
      end
    end
    -- A task the backfill wrote was counted then: its sent and final events are not counted again.
    local counted = COUNTED[typ]
    if s.bf and (typ == 'sent' or state == s.s) then counted = false end
    if s.bf and state and FINAL[state] then s.bf = nil end
    redis.call('HSET', mp .. 'sum', id, cjson.encode(s))

    if counted then
      local rt = nil
      if typ == 'succeeded' then rt = tonumber(data.runtimeMs) end
      count(s.n, s.q, typ, ts, rt)
    end
  end
end
for name, ts in pairs(seenNames) do redis.call('ZADD', mp .. 'names', 'GT', ts, name) end
for queue, ts in pairs(seenQueues) do redis.call('ZADD', mp .. 'queues', 'GT', ts, queue) end
for mk, at in pairs(minuteKeys) do redis.call('PEXPIREAT', mk, at) end
return applied
