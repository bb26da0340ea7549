-- (a') The bare reference: PATCH /users/<id> on bench/bare_wsgi.py (a minimal Flask + Core app, not
-- ours) with a new display name in a JSON body; one UPDATE per request.
-- wrk args: <user ids, comma-separated>
package.path = "./?.lua;" .. package.path
local common = require("common")
common.install(200)

local ids
local headers = { ["Content-Type"] = "application/json" }

function init(args)
   ids = common.split(args[1])
end

function request()
   local value = common.next_value()
   return wrk.format("PATCH", "/users/" .. common.pick(ids), headers, string.format('{"display_name": "%s"}', value))
end
