-- wrk script: POST /v1/triage with a rotating set of realistic tickets for tenant northmoor.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TRIAGE_KEY") or "")
local tickets = {
  '{"title":"locked out of my account","description":"typed my password wrong three times and now it says the account is locked","tenant":"northmoor"}',
  '{"title":"printer on floor 2 offline","description":"nothing prints from the office printer, queue stuck","tenant":"northmoor"}',
  '{"title":"vpn keeps dropping","description":"working from home the vpn disconnects every 20 minutes and teams calls drop","tenant":"northmoor"}',
  '{"title":"new starter needs laptop and access","description":"hi please setup laptop and access for new recruiter starting monday thanks","tenant":"northmoor"}',
  '{"title":"outlook stuck loading profile","description":"outlook will not open, stuck on loading profile since update","tenant":"northmoor"}',
  '{"title":"council tax screen frozen","description":"revenues system freezes when I open a council tax account, customer waiting on phone","tenant":"northmoor"}',
  '{"title":"purchase request for monitor","description":"hi please raise purchase order for second monitor and docking station for my desk","tenant":"northmoor"}',
  '{"title":"shared drive access","description":"need access to the planning shared drive folder please, manager approved","tenant":"northmoor"}',
}
-- TRIAGE_TENANT picks the tenant (default northmoor); "none" sends no tenant, which skips the
-- similar-ticket search (an operator key may triage without a tenant): a measured bound.
local tenant = os.getenv("TRIAGE_TENANT") or "northmoor"
for k, body in ipairs(tickets) do
  if tenant == "none" then
    tickets[k] = body:gsub(',"tenant":"northmoor"', '')
  else
    tickets[k] = body:gsub('"tenant":"northmoor"', '"tenant":"' .. tenant .. '"')
  end
end
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/triage", nil, tickets[(i % #tickets) + 1])
end
