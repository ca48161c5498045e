-- Sends `depth` requests back to back before reading (HTTP/1.1 pipelining). Depth: first script arg.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local batch = {}
  for i = 1, depth do
    batch[i] = wrk.format()
  end
  req = table.concat(batch)
end

request = function()
  return req
end
