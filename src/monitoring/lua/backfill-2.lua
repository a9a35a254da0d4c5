--[[
  Reconciles the index with BullMQ: walks one of a queue's finished sets (completed or failed, scored by
  finish time) over a time range, and writes each task the index does not hold in a final state from its
  job. Events can be lost: the stream is capped (a web role down for long, an index started on an
  existing installation), and a worker can die between finishing a job and appending its event. Each task
  written is counted as its events would have been (sent unless seen, and its final event), and marked `bf`
  so that those events, should they still arrive, are not counted twice.

  Input:
    KEYS[1] mon:sum
    KEYS[2] the finished set

    ARGV[1] mon key prefix
    ARGV[2] BullMQ job key prefix
    ARGV[3] now (ms)
    ARGV[4] success retention (ms)
    ARGV[5] failure retention (ms)
    ARGV[6] Prometheus bucket bounds in ms
    ARGV[7] per-minute data kept (ms)
    ARGV[8] queue
    ARGV[9] how the set's jobs ended: 'SUCCESS' (BullMQ's completed set) | 'FAILURE' (its failed set; a revoked task is REVOKED)
    ARGV[10] from (finish time, ms, inclusive)
    ARGV[11] to (ms, inclusive)
    ARGV[12] at most this many jobs
    ARGV[13] the job hash's fields (as apply)

  Output:
    {tasks written, jobs examined, finish time of the last job examined}
]]
local mp, jp = ARGV[1], ARGV[2]
local now, keepOk, keepFail, minutesKept = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
local bounds = {}
for b in string.gmatch(ARGV[6], '[^,]+') do bounds[#bounds + 1] = tonumber(b) end
local queue, ended = ARGV[8], ARGV[9]
local minuteKeys = {}
local JF = {}
for field in string.gmatch(ARGV[13], '[^,]+') do JF[#JF + 1] = field end
--- @include "includes/count"
local FINAL = { SUCCESS = true, FAILURE = true, REVOKED = true }
local EVENT = { SUCCESS = 'succeeded', FAILURE = 'failed', REVOKED = 'revoked' }
local REVOKED_PREFIX = '[revoked] '
local written, last = 0, ''
local jobs = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[10], ARGV[11], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[12]))
for i = 1, #jobs, 2 do
  local id = jobs[i]
  last = jobs[i + 1]
  local json = redis.call('HGET', KEYS[1], id)
  local s = nil
  if json then s = cjson.decode(json) end
  local f = {}
  if s and s.s and FINAL[s.s] then
    -- Finished through its events; only its sent event may have been lost: count it now.
    if type(s.tl) == 'table' and not s.bf then
      local hasSent = false
      for _, e in ipairs(s.tl) do if e[1] == 'sent' then hasSent = true end end
      if not hasSent then
        table.insert(s.tl, 1, { 'sent', s.t0 })
        s.bf = 1
        redis.call('HSET', KEYS[1], id, cjson.encode(s))
        count(s.n, s.q, 'sent', s.t0, nil)
      end
    end
  else
    f = redis.call('HMGET', jp .. ':' .. queue .. ':' .. id, unpack(JF))
  end
  local t2 = tonumber(f[4])
  if f[1] and t2 then
    local state = 'SUCCESS'
    local reason = f[5] or ''
    if ended == 'FAILURE' then
      if string.sub(reason, 1, #REVOKED_PREFIX) == REVOKED_PREFIX then state = 'REVOKED'; reason = string.sub(reason, #REVOKED_PREFIX + 1) else state = 'FAILURE' end
    end
    local t1 = tonumber(f[3])
    local fresh = s == nil
    if fresh then
      s = { n = f[1], q = queue, t0 = tonumber(f[2]) or t2, tl = {} }
      redis.call('ZADD', mp .. 'all', s.t0, id)
      redis.call('ZADD', mp .. 'name:' .. s.n, s.t0, id)
      redis.call('ZADD', mp .. 'queue:' .. queue, s.t0, id)
      redis.call('ZADD', mp .. 'names', 'GT', s.t0, s.n)
      redis.call('ZADD', mp .. 'queues', 'GT', s.t0, queue)
      if f[7] then redis.call('HSET', mp .. 'args', id, string.sub(f[7], 1, 300)) end
    elseif s.s then
      redis.call('ZREM', mp .. 'state:' .. s.s, id)
    end
    if type(s.tl) ~= 'table' then s.tl = {} end
    -- Its sent event may be what was lost (the index then knew the task from a later event).
    local hasSent = false
    for _, e in ipairs(s.tl) do if e[1] == 'sent' then hasSent = true end end
    if not hasSent then table.insert(s.tl, 1, { 'sent', s.t0 }) end
    if t1 and not s.t1 then s.tl[#s.tl + 1] = { 'started', t1 } end
    s.tl[#s.tl + 1] = { EVENT[state], t2 }
    s.s = state
    s.sid = string.format('%d-0', t2)
    s.t1 = s.t1 or t1
    s.t2 = t2
    s.at = tonumber(f[6]) or s.at
    s.bf = 1
    local rt = nil
    if state == 'SUCCESS' and t1 then rt = t2 - t1; s.rt = rt else s.e = string.sub(reason, 1, 300) end
    redis.call('ZADD', mp .. 'state:' .. state, s.t0, id)
    local keep = keepFail
    if state == 'SUCCESS' then keep = keepOk end
    redis.call('ZADD', mp .. 'exp', t2 + keep, id)
    redis.call('HSET', KEYS[1], id, cjson.encode(s))
    if not hasSent then count(s.n, queue, 'sent', s.t0, nil) end
    count(s.n, queue, EVENT[state], t2, rt)
    written = written + 1
  end
end
for mk, at in pairs(minuteKeys) do redis.call('PEXPIREAT', mk, at) end
return { written, #jobs / 2, last }
