-- wrk script for scripts/bench: one scenario per run, chosen by ROSTER_MODE.
--   create     POST a new employee with a unique ID      (expects 303)
--   duplicate  POST an existing ID, mixed case + padding  (expects 409)
--   likely     POST a new ID for a seeded person with a date of birth, the names
--              in the other order and upper case               (expects 409)
--   list       GET a random page of the whole list        (expects 200)
--   search     GET a 3-letter name prefix                 (expects 200)
--   words      GET two word starts (first and last name), or a job title's
--              second word's start                        (expects 200)
--   sorted     GET one of the first 20 pages of the list sorted by a column,
--              either way                                 (expects 200)
-- The session cookie and CSRF token come from a browser-like sign-in.

local mode = os.getenv("ROSTER_MODE")
local cookie = os.getenv("ROSTER_COOKIE")
local csrf = os.getenv("ROSTER_CSRF")
local seeded = tonumber(os.getenv("ROSTER_SEEDED"))
local run_tag = os.getenv("ROSTER_RUN")
local born_every = tonumber(os.getenv("ROSTER_BORN_EVERY") or "100")
local names = {}
for name in string.gmatch(os.getenv("ROSTER_NAMES"), "[^,]+") do
  table.insert(names, name)
end
local titles = {}
for title in string.gmatch(os.getenv("ROSTER_TITLES") or "Analyst", "[^,]+") do
  table.insert(titles, title)
end
local sorts = { "name", "-name", "employee_id", "-employee_id", "hire_date", "-hire_date",
  "status", "-status" }

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  counter = 0
  math.randomseed(os.time() * 1000 + id)
end

-- A fresh, valid address per request, so that only the ID is the duplicate.
function id_of_thread()
  return id .. "-" .. counter
end

local form_headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
}

function request()
  counter = counter + 1
  form_headers["Cookie"] = cookie
  if mode == "create" then
    local id = string.format("W%s-%d-%d", run_tag, id, counter)
    local body = "csrf_token=" .. csrf .. "&employee_id=" .. id
      .. "&first_name=Load&last_name=Test&email=" .. string.lower(id)
      .. "%40bench.example&hire_date=2024-01-01"
    return wrk.format("POST", "/employees", form_headers, body)
  elseif mode == "duplicate" then
    local n = math.random(1, seeded)
    local id = string.format("++e-%06d+", n) -- "  e-000042 ": padded, lower case
    local body = "csrf_token=" .. csrf .. "&employee_id=" .. id
      .. "&first_name=Dup&last_name=Licate&email=dup-" .. run_tag .. "-" .. id_of_thread() .. "%40bench.example"
      .. "&hire_date=2024-01-01"
    return wrk.format("POST", "/employees", form_headers, body)
  elseif mode == "likely" then
    -- Seeded record n: first name names[1 + n % 26], last name names[27 + (n // 26) % 20],
    -- born as scripts/bench's born(n) says.
    local n = born_every * math.random(1, math.floor(seeded / born_every))
    local first = names[1 + n % 26]
    local last = names[27 + math.floor(n / 26) % 20]
    local born = string.format("%04d-%02d-%02d", 1970 + n % 30, 1 + n % 12, 1 + n % 28)
    local id = string.format("L%s-%d-%d", run_tag, id, counter)
    local body = "csrf_token=" .. csrf .. "&employee_id=" .. id
      .. "&first_name=" .. string.upper(last) .. "&last_name=" .. first
      .. "&email=" .. string.lower(id) .. "%40bench.example&hire_date=2024-01-01"
      .. "&date_of_birth=" .. born
    return wrk.format("POST", "/employees", form_headers, body)
  elseif mode == "list" then
    local pages = math.floor(seeded / 50)
    return wrk.format("GET", "/employees?page=" .. math.random(1, pages), { ["Cookie"] = cookie })
  elseif mode == "words" then
    local q
    if math.random(1, 2) == 1 then
      q = string.sub(names[math.random(1, 26)], 1, 3) .. "+" .. string.sub(names[math.random(27, #names)], 1, 3)
    else
      local title = titles[math.random(1, #titles)]
      q = string.lower(string.sub(title, 1, 4))
    end
    return wrk.format("GET", "/employees?q=" .. q, { ["Cookie"] = cookie })
  elseif mode == "sorted" then
    local sort = sorts[math.random(1, #sorts)]
    return wrk.format("GET", "/employees?sort=" .. sort .. "&page=" .. math.random(1, 20),
      { ["Cookie"] = cookie })
  else
    local name = names[math.random(1, #names)]
    return wrk.format("GET", "/employees?q=" .. string.sub(name, 1, 3), { ["Cookie"] = cookie })
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'ROSTER_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors, table.concat(parts, ", ")))
end
