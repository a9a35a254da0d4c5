--[[
  A task as of one moment: its job hash and where BullMQ keeps it, read atomically.

  Input:
    KEYS[1] the job hash
    KEYS[2] completed (zset)
    KEYS[3] failed (zset)
    KEYS[4] delayed (zset)
    KEYS[5] prioritized (zset)
    KEYS[6] active (list)
    KEYS[7] wait (list)
    KEYS[8] paused (list)
    KEYS[9] waiting-children (zset)
    KEYS[10] the revoked set (or the job hash again when not asked)
    (KEYS[2..9] in the order of BullMQ's getStateV2 script)

    ARGV[1] the job id
    ARGV[2] '1' to look in the revoked set

  Output:
    {} for no job, else {state index (0: none of them), revoked 0/1, the hash's field/value list}
]]
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return {} end
local id = ARGV[1]
local state = 0
for i = 2, 9 do
  local found
  if i >= 6 and i <= 8 then found = redis.call('LPOS', KEYS[i], id) else found = redis.call('ZSCORE', KEYS[i], id) end
  if found then state = i - 1 break end
end
local revoked = 0
if ARGV[2] == '1' and redis.call('ZSCORE', KEYS[10], id) then revoked = 1 end
return {state, revoked, fields}
