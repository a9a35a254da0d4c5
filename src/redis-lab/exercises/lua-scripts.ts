// The Lua scripts of the lua exercise, each with its KEYS, ARGV and return value.

/** KEYS: none. ARGV: none. Returns a string. */
export const HELLO = "return 'Hello from Lua inside Redis'";

/** KEYS[1], KEYS[2]; ARGV[1], ARGV[2]. Returns them back as one array. */
export const ECHO_ARGS = 'return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}';

/** KEYS: none. ARGV[1]: n. Returns the squares 1..n, a table built in Lua (an array reply). */
export const SQUARES = `
local squares = {}
for i = 1, tonumber(ARGV[1]) do
  squares[i] = i * i
end
return squares`;

/** KEYS: none. ARGV[1]: a JSON object with numbers a and b. Returns a + b. */
export const JSON_SUM = `
local data = cjson.decode(ARGV[1])
return data.a + data.b`;

/** KEYS[1]: key to read (a number), KEYS[2]: key to write. ARGV[1]: what to add. Returns the written number. */
export const READ_COMPUTE_WRITE = `
local value = tonumber(redis.call('GET', KEYS[1]))
local result = value + tonumber(ARGV[1])
redis.call('SET', KEYS[2], result)
return result`;

/**
 * The lab's permissions-and-groups script, atomic because scripts run alone on the server.
 * KEYS[1]: set of the permissions that exist. KEYS[2]: set of the group's users.
 * ARGV[1]: the permission. ARGV[2]: prefix of the per-user permission sets (`<prefix><user>`).
 * Returns true (granted to every member) or false (no such permission; nothing changed).
 * The per-user keys are built from ARGV, not declared in KEYS: fine on one Redis, not on Cluster.
 */
export const GRANT_TO_GROUP = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return false
end
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  redis.call('SADD', ARGV[2] .. user, ARGV[1])
end
return true`;

/** KEYS[1]: a counter. ARGV: none. Returns the counter after INCR (used for SCRIPT LOAD + EVALSHA). */
export const COUNT_CALLS = "return redis.call('INCR', KEYS[1])";
