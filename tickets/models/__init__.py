from .outages import Outage, OutageUpdate
from .retention import CallScript, ChecklistItem, RetentionCall, Situation
from .routing import Category, SlaPolicy
from .tickets import Comment, Rating, ReviewTask, SlaNotice, Ticket, TimeEntry

__all__ = ["CallScript", "Category", "ChecklistItem", "Comment", "Outage", "OutageUpdate",
           "Rating", "RetentionCall", "ReviewTask", "Situation", "SlaNotice", "SlaPolicy",
           "Ticket", "TimeEntry"]
