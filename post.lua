wrk.method = "POST"
local f = io.open("/tmp/prof/body.json", "r")
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
