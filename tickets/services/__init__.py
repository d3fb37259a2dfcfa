"""The helpdesk's service layer: routing, the SLA clock and escalations, ticket operations
and outages. Pages, the API and jobs call these; none of them changes a ticket directly."""
