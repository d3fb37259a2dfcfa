-- POST /api/v1/payments/ load for wrk (Debian's `wrk`), a generator light enough to leave
-- the CPU to the server. Each request is a new payment with a unique external id.
--   DEBUG=false ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING REDIS_URL=redis://127.0.0.1:6379/6 \
--     .venv/bin/python -m gunicorn ispcrm.wsgi:application --bind 127.0.0.1:8056 --workers 3
--   ISPCRM_TOKEN=<token> ISPCRM_ACCOUNTS=/tmp/accounts.txt ISPCRM_RUN=run1 \
--     wrk -t2 -c8 -d30s --latency -s bench/payments_wrk.lua http://127.0.0.1:8056
-- /tmp/accounts.txt: one account number per line (psql -Atc "select number from
-- billing_account where status='active' limit 5000"). Afterwards compare
-- `select count(*) from billing_payment where external_id like '<run>-%'` with wrk's
-- request count and run `manage.py check_balances`.
tid = 0
local accounts = {}
for line in io.lines(os.getenv("ISPCRM_ACCOUNTS")) do accounts[#accounts + 1] = line end
local token = os.getenv("ISPCRM_TOKEN")
local run = os.getenv("ISPCRM_RUN")
local counter = 0

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end

function init(args)
  math.randomseed(tid * 7919)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"account":"%s","amount":"10.00","external_id":"%s-%d-%d","channel":"terminal"}',
    accounts[math.random(#accounts)], run, tid, counter)
  return wrk.format("POST", "/api/v1/payments/",
                    {["Content-Type"] = "application/json",
                     ["Authorization"] = "Token " .. token}, body)
end
