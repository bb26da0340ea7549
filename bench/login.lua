-- (d) The login: POST /zato/sso/user/login with the super-user's name and password (scrypt at the
-- server's SSO_SCRYPT_N); each success creates a session row.
-- wrk args: <username> <password> <current_app>
package.path = "./?.lua;" .. package.path
local common = require("common")
common.install(200)

local body
local headers = { ["Content-Type"] = "application/json" }

function init(args)
   body = string.format('{"username": "%s", "password": "%s", "current_app": "%s"}', args[1], args[2], args[3])
end

function request()
   return wrk.format("POST", "/zato/sso/user/login", headers, body)
end
