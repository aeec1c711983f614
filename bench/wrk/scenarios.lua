-- The benchmark's HTTP scenarios as request generators for wrk (bench/load.mjs runs it).
--
--   wrk -s bench/wrk/scenarios.lua <url> -- <scenario> <models> <versions per model> <token>
--       <deploy model> <run id> <wrk run> <window start> <window end>
--
-- Scenarios: get, list, create, status, batchget, deploy, mix, plain (the URL's own path, for the
-- bare route). wrk runs one Lua state per thread: each draws its own random names, numbers its own
-- deployments, and walks the mix from its own starting point.
--
-- The measured window: answers are counted (and non-2xx ones by status) only between the two
-- CLOCK_MONOTONIC times given (seconds, the clock of Node's process.hrtime), so the connections are
-- opened and warmed up before it and stay open into it. `done` prints one line, `WRK_RESULT {...}`,
-- that bench/load.mjs reads: the window's counts, and wrk's own totals, errors and latency
-- percentiles (µs) over the whole run.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } quiver_timespec;
int clock_gettime(int clk_id, quiver_timespec *tp);
]])
local timespec = ffi.new("quiver_timespec")
local CLOCK_MONOTONIC = 1
local function monotonic()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local scenario, models, perModel, token, deployModel, runId
local headers, jsonHeaders, generate
local windowStart, windowEnd

-- Per thread, read by done() through thread:get.
windowAnswers = 0
windowRefused = {}
earlyRefused = {}
local sequence = 0
local mixAt = 0

-- Set by setup() in each thread's state before init() runs there.
threadIndex = threadIndex or 0

local function rand(n)
  return math.random(0, n - 1)
end

local function modelPath(i)
  return string.format("/v1/namespaces/ns-%03d/models/model-%06d", i % 100, i)
end

local function batchBody()
  local names = {}
  for k = 1, 100 do
    local i = rand(models)
    names[k] = string.format('"namespaces/ns-%03d/models/model-%06d/versions/%d"', i % 100, i, 1 + rand(perModel))
  end
  return '{"names":[' .. table.concat(names, ",") .. "]}"
end

-- encodeURIComponent('labels.team="fraud"')
local FILTER = "labels.team%3D%22fraud%22"

local generators = {
  get = function()
    return wrk.format("GET", modelPath(rand(models)), headers)
  end,
  list = function()
    return wrk.format("GET", string.format("/v1/namespaces/ns-%03d/models?page_size=50&filter=%s", rand(100), FILTER), headers)
  end,
  create = function()
    return wrk.format("POST", modelPath(rand(models)) .. "/versions", jsonHeaders, '{"description":"bench"}')
  end,
  status = function()
    return wrk.format("POST", "/v1/versions:batchGetStatus", jsonHeaders, batchBody())
  end,
  batchget = function()
    return wrk.format("POST", "/v1/versions:batchGet", jsonHeaders, batchBody())
  end,
  deploy = function()
    sequence = sequence + 1
    local body = string.format('{"deployment_id":"bench-%s-%d-%d","model":"%s","version":1}', runId, threadIndex, sequence, deployModel)
    return wrk.format("POST", "/v1/deployments", jsonHeaders, body)
  end,
  plain = function()
    return wrk.format("GET", wrk.path, headers)
  end,
}

-- Nine reads of the other kinds and one create, in the order every connection of autocannon used.
local MIX = { "get", "get", "list", "get", "status", "get", "get", "list", "get", "create" }
generators.mix = function()
  mixAt = mixAt % #MIX + 1
  return generators[MIX[mixAt]]()
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("threadIndex", #threads)
end

function init(args)
  scenario = args[1] or "plain"
  models = tonumber(args[2] or "1")
  perModel = tonumber(args[3] or "1")
  token = args[4] or ""
  deployModel = args[5] or ""
  -- The benchmark's process id and this run of wrk's number: deployment names never repeat.
  runId = (args[6] or "0") .. "-" .. (args[7] or "0")
  windowStart = tonumber(args[8] or "0")
  windowEnd = tonumber(args[9] or "1e18")
  if generators[scenario] == nil then
    error("unknown scenario '" .. scenario .. "'")
  end
  headers = { ["authorization"] = "Bearer " .. token }
  jsonHeaders = { ["authorization"] = "Bearer " .. token, ["content-type"] = "application/json" }
  math.randomseed(os.time() * 1000 + threadIndex * 7919)
  mixAt = rand(#MIX)
  generate = generators[scenario]
end

-- Defined when the script loads: wrk asks for a request per call only if `request` is a function then.
function request()
  return generate()
end

function response(status)
  local now = monotonic()
  local refused = status < 200 or status > 299
  if now < windowStart then
    if refused then earlyRefused[status] = (earlyRefused[status] or 0) + 1 end
  elseif now < windowEnd then
    windowAnswers = windowAnswers + 1
    if refused then windowRefused[status] = (windowRefused[status] or 0) + 1 end
  end
end

local function statusesJson(name)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get(name)) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local answers = 0
  for _, thread in ipairs(threads) do
    answers = answers + thread:get("windowAnswers")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"window_answers":%d,"window_refused":%s,"early_refused":%s,"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"mean_us":%.1f,"max_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d}\n',
    answers, statusesJson("windowRefused"), statusesJson("earlyRefused"),
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
