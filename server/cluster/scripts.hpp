#pragma once
// The Lua scripts a node runs in Redis, each one atomic. Key layout, under the prefix P
// (`parley:`), with a topic T, a node N, a session S of that node and a folded name F:
//   P topic:T      hash  seq (last given), epoch (names this run of seqs)
//   P hist:T       list  the newest msg frames of T, oldest first ('\n' included)
//   P members:T    hash  "N S" -> the member's name
//   P topics       zset  topics with members or history (score 0: byte order)
//   P name:F       string "N S spelling": who holds the name
//   P node:N       string the node's heartbeat, under a TTL
//   P nodes        set   nodes that registered
//   P node:N:rooms set   "T S name" for every membership of N's sessions
//   P node:N:names set   F for every name N's sessions hold
//   P groups       set   G = "pattern\ngroup" for every queue group with members
//   P group:G      zset  "N S" of the group's members, scored in the order they joined
//                        (P groupseq counts joins), which is the group's turn order
//   P turn         hash  G -> the number of messages the group has been given
//   P node:N:groups set  "S\nG" for every group membership of N's sessions
// Channels (C = `parley:<db>:`): C t:T carries a topic's msg and presence frames, each
// behind a header line "m|p N S" (a msg's header adds " N S" for each queue group member
// picked for it); C n:N carries tells ("t S") to N's sessions and the
// end of a session whose account logged in on another node ("e S").
// Topic and name characters need no JSON escaping, so the presence frames built here
// are byte for byte those of protocol::build_presence.

namespace parley::server::cluster::scripts {

// One membership of a queue group ends: group_leave(P, node, session, G).
#define PARLEY_LUA_GROUP_LEAVE                                    \
  "local function group_leave(P, n, s, g)\n"                      \
  "  redis.call('SREM', P..'node:'..n..':groups', s..'\\n'..g)\n" \
  "  redis.call('ZREM', P..'group:'..g, n..' '..s)\n"             \
  "  if redis.call('ZCARD', P..'group:'..g) == 0 then\n"          \
  "    redis.call('SREM', P..'groups', g)\n"                      \
  "    redis.call('HDEL', P..'turn', g)\n"                        \
  "  end\n"                                                       \
  "end\n"

// Shared by the scripts that release a node's state: reap(P, C, node).
#define PARLEY_LUA_REAP                                                                      \
  PARLEY_LUA_GROUP_LEAVE                                                                     \
  "local function reap(P, C, n)\n"                                                           \
  "  for _, e in ipairs(redis.call('SMEMBERS', P..'node:'..n..':rooms')) do\n"               \
  "    local t, s, name = string.match(e, '^(%S+) (%S+) (.*)$')\n"                           \
  "    if t and redis.call('HDEL', P..'members:'..t, n..' '..s) == 1 then\n"                 \
  "      redis.call('PUBLISH', C..'t:'..t, 'p '..n..' '..s..'\\n{\"op\":\"presence\","       \
  "\"topic\":\"'..t..'\",\"name\":\"'..name..'\",\"state\":\"leave\"}\\n')\n"                \
  "      if redis.call('HLEN', P..'members:'..t) == 0 and\n"                                 \
  "         redis.call('LLEN', P..'hist:'..t) == 0 then redis.call('ZREM', P..'topics', t) " \
  "end\n"                                                                                    \
  "    end\n"                                                                                \
  "  end\n"                                                                                  \
  "  redis.call('DEL', P..'node:'..n..':rooms')\n"                                           \
  "  for _, f in ipairs(redis.call('SMEMBERS', P..'node:'..n..':names')) do\n"               \
  "    local v = redis.call('GET', P..'name:'..f)\n"                                         \
  "    if v and string.sub(v, 1, #n + 1) == n..' ' then redis.call('DEL', P..'name:'..f) "   \
  "end\n"                                                                                    \
  "  end\n"                                                                                  \
  "  redis.call('DEL', P..'node:'..n..':names')\n"                                           \
  "  for _, e in ipairs(redis.call('SMEMBERS', P..'node:'..n..':groups')) do\n"              \
  "    local nl = string.find(e, '\\n', 1, true)\n"                                          \
  "    if nl then group_leave(P, n, string.sub(e, 1, nl - 1), string.sub(e, nl + 1)) end\n"  \
  "  end\n"                                                                                  \
  "  redis.call('DEL', P..'node:'..n..':groups')\n"                                          \
  "  redis.call('SREM', P..'nodes', n)\n"                                                    \
  "end\n"

// publish. KEYS: topic hash, hist list, topics zset. ARGV: channel, header line (without
// its '\n'), frame before its seq, frame after it, history cap, epoch candidate, topic, P,
// the publisher "N S", "1" when the publisher said echo false. Returns the seq. The frame
// is complete but for the seq, which only Redis can know. Each queue group whose pattern
// matches the topic gets the message once in the cluster: its next member in turn
// (skipping an echo-false publisher) is named in the header, and only that member's node
// delivers it to that member.
inline constexpr const char* kPublish = R"lua(
local function matches(p, t)
  local first = string.sub(p, 1, 1)
  if string.sub(t, 1, 1) == '$' and (first == '*' or first == '>') then return false end
  local pi, ti = 1, 1
  while true do
    local pd = string.find(p, '.', pi, true)
    local ptok = string.sub(p, pi, pd and pd - 1 or -1)
    if ptok == '>' then return ti <= #t end
    local td = string.find(t, '.', ti, true)
    local ttok = string.sub(t, ti, td and td - 1 or -1)
    if ptok ~= '*' and ptok ~= ttok then return false end
    if not pd or not td then return (not pd) and (not td) end
    pi, ti = pd + 1, td + 1
  end
end
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[6])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local frame = ARGV[3] .. seq .. ARGV[4]
local cap = tonumber(ARGV[5])
if cap > 0 then
  redis.call('RPUSH', KEYS[2], frame)
  redis.call('LTRIM', KEYS[2], -cap, -1)
  redis.call('ZADD', KEYS[3], 0, ARGV[7])
end
local P, publisher, skip = ARGV[8], ARGV[9], ARGV[10] == '1'
local picks = ''
for _, g in ipairs(redis.call('SMEMBERS', P .. 'groups')) do
  local nl = string.find(g, '\n', 1, true)
  if nl and matches(string.sub(g, 1, nl - 1), ARGV[7]) then
    local key = P .. 'group:' .. g
    local n = redis.call('ZCARD', key)
    for tried = 0, n - 1 do
      local turn = redis.call('HINCRBY', P .. 'turn', g, 1)
      local m = redis.call('ZRANGE', key, (turn - 1) % n, (turn - 1) % n)[1]
      if not (skip and m == publisher) then
        picks = picks .. ' ' .. m
        break
      end
    end
  end
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. picks .. '\n' .. frame)
return seq
)lua";

// a session enters a queue group. ARGV: P, node, session, pattern, group.
inline constexpr const char* kGroupJoin = R"lua(
local P, n, s = ARGV[1], ARGV[2], ARGV[3]
local g = ARGV[4] .. '\n' .. ARGV[5]
redis.call('ZADD', P .. 'group:' .. g, 'NX', redis.call('INCR', P .. 'groupseq'), n .. ' ' .. s)
redis.call('SADD', P .. 'groups', g)
redis.call('SADD', P .. 'node:' .. n .. ':groups', s .. '\n' .. g)
return 1
)lua";

// a session leaves a queue group. ARGV: P, node, session, pattern, group.
inline constexpr const char* kGroupLeave = PARLEY_LUA_GROUP_LEAVE R"lua(
group_leave(ARGV[1], ARGV[2], ARGV[3], ARGV[4] .. '\n' .. ARGV[5])
return 1
)lua";

// join. KEYS: members hash, topic hash, hist list, topics zset, node rooms set. ARGV:
// member field "N S", name, rooms entry "T S name", channel, presence payload, epoch
// candidate, topic. Returns {seq, epoch, names, history}.
inline constexpr const char* kJoin = R"lua(
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('SADD', KEYS[5], ARGV[3])
  redis.call('ZADD', KEYS[4], 0, ARGV[7])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
redis.call('HSETNX', KEYS[2], 'epoch', ARGV[6])
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
return {seq, redis.call('HGET', KEYS[2], 'epoch'), redis.call('HVALS', KEYS[1]),
        redis.call('LRANGE', KEYS[3], 0, -1)}
)lua";

// leave. KEYS: members hash, hist list, topics zset, node rooms set. ARGV: member field,
// rooms entry, channel, presence payload, topic.
inline constexpr const char* kLeave = R"lua(
redis.call('SREM', KEYS[4], ARGV[2])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
if redis.call('HLEN', KEYS[1]) == 0 and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[5])
end
return 1
)lua";

// history. KEYS: topic hash, hist list. Returns {seq, epoch or false, history}.
inline constexpr const char* kHistory = R"lua(
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
return {seq, redis.call('HGET', KEYS[1], 'epoch'), redis.call('LRANGE', KEYS[2], 0, -1)}
)lua";

// claim a name. KEYS: new name key, old name key, node names set. ARGV: value
// "N S spelling", new folded, old folded, owner prefix "N S ", and for a takeover the
// node channel prefix `C n:` and the key prefix P (both empty otherwise). Returns 1 if won,
// 0 if another session holds it; a takeover wins from another session too, removes the
// name from its node's names and tells that node to end the session ("e S" then the bye
// reason), returning 2.
inline constexpr const char* kClaim = R"lua(
local cur = redis.call('GET', KEYS[1])
local result = 1
if cur and string.sub(cur, 1, #ARGV[4]) ~= ARGV[4] then
  if ARGV[5] == '' then return 0 end
  local node, session = string.match(cur, '^(%S+) (%S+) ')
  if node then
    redis.call('SREM', ARGV[6] .. 'node:' .. node .. ':names', ARGV[2])
    redis.call('PUBLISH', ARGV[5] .. node, 'e ' .. session .. '\nreplaced')
  end
  result = 2
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
if KEYS[2] ~= KEYS[1] then
  local old = redis.call('GET', KEYS[2])
  if old and string.sub(old, 1, #ARGV[4]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
  redis.call('SREM', KEYS[3], ARGV[3])
end
return result
)lua";

// release a name. KEYS: name key, node names set. ARGV: folded, owner prefix "N S ".
inline constexpr const char* kRelease = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[2]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
)lua";

// tell. KEYS: name key. ARGV: node channel prefix, from, ts, data. Returns 0 when nobody
// has the name; else the tell goes to the holder's node, which builds the msg frame.
inline constexpr const char* kTell = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local node, session = string.match(v, '^(%S+) (%S+) ')
redis.call('PUBLISH', ARGV[1] .. node, 't ' .. session .. '\n' .. ARGV[2] .. '\n' ..
            ARGV[3] .. '\n' .. ARGV[4])
return 1
)lua";

// heartbeat and reaping. ARGV: prefix P, channel prefix C, this node, TTL ms. Renews the
// node's key, releases every node whose key expired (presence leave to the members'
// rooms, names freed) and returns the number of nodes alive.
inline constexpr const char* kHeartbeat = PARLEY_LUA_REAP R"lua(
local P, C, me = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', P .. 'node:' .. me, '1', 'PX', ARGV[4])
redis.call('SADD', P .. 'nodes', me)
for _, n in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if redis.call('EXISTS', P .. 'node:' .. n) == 0 then reap(P, C, n) end
end
return redis.call('SCARD', P .. 'nodes')
)lua";

// a stopping node releases everything at once. ARGV: P, C, node.
inline constexpr const char* kStop = PARLEY_LUA_REAP R"lua(
reap(ARGV[1], ARGV[2], ARGV[3])
redis.call('DEL', ARGV[1] .. 'node:' .. ARGV[3])
return 1
)lua";

// after a reconnect: makes the node's memberships and names in Redis exactly the listed
// ones. Those no longer live are released with presence leave; the live ones are put back
// silently (the store may have lost or reaped them). ARGV: P, C, node, TTL ms, count of
// rooms R, then R triples (topic, session, name), count of group memberships M, then M
// triples (session, pattern, group), then pairs (folded, "N S spelling").
inline constexpr const char* kResync = PARLEY_LUA_REAP R"lua(
local P, C, me = ARGV[1], ARGV[2], ARGV[3]
local rooms = tonumber(ARGV[5])
local keep = {}
for i = 0, rooms - 1 do
  local t, s, name = ARGV[6 + 3 * i], ARGV[7 + 3 * i], ARGV[8 + 3 * i]
  keep[t .. ' ' .. s .. ' ' .. name] = true
end
for _, e in ipairs(redis.call('SMEMBERS', P .. 'node:' .. me .. ':rooms')) do
  if not keep[e] then
    local t, s, name = string.match(e, '^(%S+) (%S+) (.*)$')
    redis.call('SREM', P .. 'node:' .. me .. ':rooms', e)
    if t and redis.call('HDEL', P .. 'members:' .. t, me .. ' ' .. s) == 1 then
      redis.call('PUBLISH', C .. 't:' .. t, 'p ' .. me .. ' ' .. s ..
        '\n{"op":"presence","topic":"' .. t .. '","name":"' .. name .. '","state":"leave"}\n')
    end
  end
end
for i = 0, rooms - 1 do
  local t, s, name = ARGV[6 + 3 * i], ARGV[7 + 3 * i], ARGV[8 + 3 * i]
  redis.call('HSET', P .. 'members:' .. t, me .. ' ' .. s, name)
  redis.call('SADD', P .. 'node:' .. me .. ':rooms', t .. ' ' .. s .. ' ' .. name)
  redis.call('ZADD', P .. 'topics', 0, t)
end
local groups_at = 6 + 3 * rooms
local groups = tonumber(ARGV[groups_at])
for _, e in ipairs(redis.call('SMEMBERS', P .. 'node:' .. me .. ':groups')) do
  local nl = string.find(e, '\n', 1, true)
  if nl then group_leave(P, me, string.sub(e, 1, nl - 1), string.sub(e, nl + 1)) end
end
for i = 0, groups - 1 do
  local s, g = ARGV[groups_at + 1 + 3 * i], ARGV[groups_at + 2 + 3 * i] .. '\n' .. ARGV[groups_at + 3 + 3 * i]
  redis.call('ZADD', P .. 'group:' .. g, 'NX', redis.call('INCR', P .. 'groupseq'), me .. ' ' .. s)
  redis.call('SADD', P .. 'groups', g)
  redis.call('SADD', P .. 'node:' .. me .. ':groups', s .. '\n' .. g)
end
local names = {}
for i = groups_at + 1 + 3 * groups, #ARGV, 2 do
  names[ARGV[i]] = true
  local cur = redis.call('GET', P .. 'name:' .. ARGV[i])
  if not cur or string.sub(cur, 1, #me + 1) == me .. ' ' then
    redis.call('SET', P .. 'name:' .. ARGV[i], ARGV[i + 1])
    redis.call('SADD', P .. 'node:' .. me .. ':names', ARGV[i])
  end
end
for _, f in ipairs(redis.call('SMEMBERS', P .. 'node:' .. me .. ':names')) do
  if not names[f] then
    local cur = redis.call('GET', P .. 'name:' .. f)
    if cur and string.sub(cur, 1, #me + 1) == me .. ' ' then redis.call('DEL', P .. 'name:' .. f) end
    redis.call('SREM', P .. 'node:' .. me .. ':names', f)
  end
end
redis.call('SET', P .. 'node:' .. me, '1', 'PX', ARGV[4])
redis.call('SADD', P .. 'nodes', me)
return 1
)lua";

// topics. ARGV: ZRANGEBYLEX start ('-' or '[prefix'), most entries to visit. Returns
// {topic, seq, members, retained, ...} in byte order.
inline constexpr const char* kTopics = R"lua(
local out = {}
for _, t in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))) do
  out[#out + 1] = t
  out[#out + 1] = tonumber(redis.call('HGET', ARGV[3] .. 'topic:' .. t, 'seq') or '0')
  out[#out + 1] = redis.call('HLEN', ARGV[3] .. 'members:' .. t)
  out[#out + 1] = redis.call('LLEN', ARGV[3] .. 'hist:' .. t)
end
return out
)lua";

#undef PARLEY_LUA_REAP
#undef PARLEY_LUA_GROUP_LEAVE

}  // namespace parley::server::cluster::scripts
