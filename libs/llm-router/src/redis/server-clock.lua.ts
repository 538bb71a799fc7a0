/**
 * A Lua function `clock()` answering the Redis server's time in epoch ms. The
 * shared stores' scripts take "now" from it, never from the calling instance,
 * so one instance's wrong clock cannot move a lease or a cool-down for all
 * (Redis 5 or later: a script may read TIME before writing).
 */
export const SERVER_CLOCK_LUA = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
