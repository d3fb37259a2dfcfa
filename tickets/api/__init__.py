"""The helpdesk's REST API (API.md "Tickets and outages")."""
