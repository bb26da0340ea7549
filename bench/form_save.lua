-- (c) The web console's form save: POST the Manage-user edit form (CSRF token and session cookie
-- obtained by run.py), with a new display name on every request; success is a 303 redirect.
-- wrk args: <path with {user_id}> <user ids, comma-separated> <urlencoded fields without the display name>
--           <display-name field> <cookie header> <origin> <referer>
package.path = "./?.lua;" .. package.path
local common = require("common")
common.install(303)

local path, ids, base, field
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
   path, ids, base, field = args[1], common.split(args[2]), args[3], args[4]
   headers["Cookie"] = args[5]
   headers["Origin"] = args[6]
   headers["Referer"] = args[7]
   if base ~= "" then
      base = base .. "&"
   end
end

function request()
   local value = common.next_value()
   local target = string.gsub(path, "{user_id}", common.pick(ids))
   return wrk.format("POST", target, headers, base .. field .. "=" .. value)
end
