"""Staff screens of the helpdesk: work queues, the ticket page, the phone form, outages and
the help page. Thin: parse the request, call tickets.services, render or redirect with a
message that names the reason of a refusal."""
