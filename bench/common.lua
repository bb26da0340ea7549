-- Shared by the bench scripts (loaded with require from the bench/ directory, where run.py runs wrk).
--
-- Each wrk thread has its own Lua state: `tid` (set in setup) makes every generated value unique
-- across threads, `unexpected` counts responses whose status is not the target's success status,
-- and done() (in the main state) sums those per-thread counters and prints one JSON line that
-- bench/run.py parses: "BENCH_JSON {...}".
local M = {}

local threads = {}

expected_status = 200
unexpected = 0
first_unexpected = 0
counter = 0

function M.setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function M.expect(status)
   expected_status = status
end

-- A value no other request has used (run.py sets BENCH_RUN uniquely for every wrk run), so each
-- request really writes.
local run_id = os.getenv("BENCH_RUN") or tostring(os.time())

function M.next_value()
   counter = counter + 1
   return string.format("b%s-%d-%d", run_id, tid or 0, counter)
end

-- The user a request writes to: round-robin over the comma-separated ids run.py passes (--spread).
function M.split(text)
   local items = {}
   for item in string.gmatch(text, "[^,]+") do
      table.insert(items, item)
   end
   return items
end

function M.pick(items)
   return items[(counter + (tid or 0)) % #items + 1]
end

function M.response(status, headers, body)
   if status ~= expected_status then
      unexpected = unexpected + 1
      if first_unexpected == 0 then
         first_unexpected = status
      end
   end
end

function M.done(summary, latency, requests)
   local bad, first = 0, 0
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("unexpected") or 0)
      local status = thread:get("first_unexpected") or 0
      if first == 0 and status ~= 0 then
         first = status
      end
   end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_s": %.6f, "rps": %.3f, "mean_ms": %.3f, '
         .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
         .. '"non_2xx_3xx": %d, "unexpected_status": %d, "first_unexpected_status": %d, '
         .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
      summary.requests, seconds, summary.requests / seconds, latency.mean / 1000,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, e.status, bad, first, e.connect, e.read, e.write, e.timeout))
end

-- Install the shared hooks as the globals wrk looks for.
function M.install(status)
   M.expect(status)
   setup = M.setup
   response = M.response
   done = M.done
end

return M
