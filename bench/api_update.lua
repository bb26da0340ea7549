-- (b) The JSON update: PATCH /zato/sso/user, a super-user changing another user's display name
-- to a new value on every request (so each request really writes).
-- wrk args: <ust> <user ids, comma-separated> <current_app>
package.path = "./?.lua;" .. package.path
local common = require("common")
common.install(200)

local ust, ids, current_app
local headers = { ["Content-Type"] = "application/json" }

function init(args)
   ust, ids, current_app = args[1], common.split(args[2]), args[3]
end

function request()
   local value = common.next_value()
   local body = string.format('{"ust": "%s", "current_app": "%s", "user_id": "%s", "display_name": "%s"}',
      ust, current_app, common.pick(ids), value)
   return wrk.format("PATCH", "/zato/sso/user", headers, body)
end
