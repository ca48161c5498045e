-- Alternates a JSON GET on a routed path and a JSON POST, on every connection.
-- Built in init(): wrk sets the Host header only then.
local get, post
local n = 0

init = function(args)
  get = wrk.format("GET", "/users/42")
  post = wrk.format("POST", "/users", { ["Content-Type"] = "application/json" },
    '{"name":"Ada Lovelace","email":"ada@example.com","roles":["admin","author"],"active":true}')
end

request = function()
  n = n + 1
  if n % 2 == 0 then return post end
  return get
end
