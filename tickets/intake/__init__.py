"""Tickets arriving by themselves: the support mailbox and messenger webhooks (SP-2)."""
