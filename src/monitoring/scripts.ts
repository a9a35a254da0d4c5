// The monitor index's Lua scripts (keys in keys.ts; the task list's LIST is in store.ts). Each runs
// atomically, so several web processes can index, trim and read at once. Every key they touch shares
// the `{prefix}` hash tag (one Redis Cluster slot); the job hashes' layout comes from the task layer.
import { createHash } from 'node:crypto';
import type { Redis } from '../platform/redis.js';

export class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Removes one task from every index structure (shared by trim, sweep and forget). */
const FORGET = `
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
`;

/**
 * Counting one event (shared by APPLY and BACKFILL): the cluster-wide totals, the cumulative runtime
 * histogram (successful runs), and the per-minute series and runtime histograms (kept minutesKept).
 * Reads the globals mp, bounds, now, minutesKept, minuteKeys (minute key → expiry, set once per batch).
 */
const COUNT = `
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
`;

/**
 * Applies a batch of task events, each exactly once: the entry is acknowledged (XACK) in the same
 * script, and an entry another consumer already acknowledged is skipped. Events of one task may be
 * applied out of order (two consumers, or two streams): the state follows the newest stream id seen
 * for the task (every stream's ids are Redis's clock).
 * KEYS: 1 the event stream the batch came from
 * ARGV: 1 consumer group ('' = apply without acknowledging), 2 mon key prefix ("{p}:mon:"),
 *       3 BullMQ job key prefix ("{p}"), 4 now (ms), 5 success retention (ms), 6 failure retention (ms),
 *       7 Prometheus bucket bounds in ms (comma list), 8 per-minute data kept (ms),
 *       9 the job hash's fields (JOB_FIELDS, comma list: name, created, started, finished, failed reason, attempts, data),
 *       then 7 per event: stream id, type, task id, task name, queue, ts (ms), data JSON ('' for none)
 * Returns the number of events applied.
 */
export const APPLY = new Script(`
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
${COUNT}

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
`);

/**
 * Reconciles the index with BullMQ: walks one of a queue's finished sets (completed or failed, scored by
 * finish time) over a time range, and writes each task the index does not hold in a final state from its
 * job. Events can be lost: the stream is capped (a web role down for long, an index started on an
 * existing installation), and a worker can die between finishing a job and appending its event. Each task
 * written is counted as its events would have been (sent unless seen, and its final event), and marked `bf`
 * so that those events, should they still arrive, are not counted twice.
 * KEYS: 1 mon:sum, 2 the finished set
 * ARGV: 1 mon key prefix, 2 BullMQ job key prefix, 3 now (ms), 4 success retention (ms), 5 failure retention (ms),
 *       6 Prometheus bucket bounds in ms, 7 per-minute data kept (ms), 8 queue, 9 'completed' | 'failed',
 *       10 from (finish time, ms, inclusive), 11 to (ms, inclusive), 12 at most this many jobs, 13 the job hash's fields (as APPLY)
 * Returns {tasks written, jobs examined, finish time of the last job examined}.
 */
export const BACKFILL = new Script(`
local mp, jp = ARGV[1], ARGV[2]
local now, keepOk, keepFail, minutesKept = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
local bounds = {}
for b in string.gmatch(ARGV[6], '[^,]+') do bounds[#bounds + 1] = tonumber(b) end
local queue, set = ARGV[8], ARGV[9]
local minuteKeys = {}
local JF = {}
for field in string.gmatch(ARGV[13], '[^,]+') do JF[#JF + 1] = field end
${COUNT}
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
    if set == 'failed' then
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
`);

/**
 * Drops finished tasks whose retention has passed (the same ages BullMQ removes their jobs at).
 * ARGV: 1 mon key prefix, 2 now (ms), 3 at most this many
 * Returns how many were dropped.
 */
export const TRIM = new Script(`${FORGET}
local mp = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', mp .. 'exp', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do forget(mp, id) end
return #ids
`);

/**
 * Drops unfinished tasks enqueued before the cutoff whose job no longer exists (removed by hand, or
 * an event was lost), and task names and queues no task uses any more.
 * ARGV: 1 mon key prefix, 2 BullMQ job key prefix, 3 cutoff (ms), 4 at most this many per state
 * Returns how many tasks were dropped.
 */
export const SWEEP = new Script(`${FORGET}
local mp, jp, cutoff, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local dropped = 0
for _, state in ipairs({ 'PENDING', 'STARTED', 'PROGRESS', 'RETRY' }) do
  local ids = redis.call('ZRANGEBYSCORE', mp .. 'state:' .. state, '-inf', cutoff, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local json = redis.call('HGET', mp .. 'sum', id)
    local queue = nil
    if json then queue = cjson.decode(json).q end
    if not queue or redis.call('EXISTS', jp .. ':' .. queue .. ':' .. id) == 0 then
      forget(mp, id)
      dropped = dropped + 1
    end
  end
end
for _, kind in ipairs({ 'name', 'queue' }) do
  local set = mp .. kind .. 's'
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', cutoff, 'LIMIT', 0, 1000)) do
    if redis.call('EXISTS', mp .. kind .. ':' .. member) == 0 then redis.call('ZREM', set, member) end
  end
end
return dropped
`);

/**
 * Removes the given tasks from the index (deleted or cleaned by an operator).
 * ARGV: 1 mon key prefix, then task ids
 */
export const FORGET_IDS = new Script(`${FORGET}
for i = 2, #ARGV do forget(ARGV[1], ARGV[i]) end
return #ARGV - 1
`);
