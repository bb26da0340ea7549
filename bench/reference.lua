-- (a) The reference: POST /bench/reference?user_id=<id> with a new display name in the body.
-- wrk args: <user ids, comma-separated>
package.path = "./?.lua;" .. package.path
local common = require("common")
common.install(200)

local ids
local headers = { ["Content-Type"] = "text/plain; charset=utf-8" }

function init(args)
   ids = common.split(args[1])
end

function request()
   local value = common.next_value()
   return wrk.format("POST", "/bench/reference?user_id=" .. common.pick(ids), headers, value)
end
