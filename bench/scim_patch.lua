-- (s) A SCIM PATCH of two attributes: PATCH /scim/v2/Users/<id> with a SCIM client's bearer token, replacing
-- displayName and name.givenName with new values on every request (as Entra ID writes it: "Replace").
-- wrk args: <bearer token> <user ids, comma-separated>
package.path = "./?.lua;" .. package.path
local common = require("common")
common.install(200)

local token, ids
local headers = { ["Content-Type"] = "application/scim+json" }

function init(args)
   token, ids = args[1], common.split(args[2])
   headers["Authorization"] = "Bearer " .. token
end

function request()
   local value = common.next_value()
   local body = string.format(
      '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ['
         .. '{"op": "Replace", "path": "displayName", "value": "%s"}, '
         .. '{"op": "Replace", "path": "name.givenName", "value": "g%s"}]}',
      value, value)
   return wrk.format("PATCH", "/scim/v2/Users/" .. common.pick(ids), headers, body)
end
