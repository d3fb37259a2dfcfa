from .outages import Outage, OutageUpdate
from .routing import Category, SlaPolicy
from .tickets import Comment, Rating, ReviewTask, SlaNotice, Ticket, TimeEntry

__all__ = ["Category", "Comment", "Outage", "OutageUpdate", "Rating", "ReviewTask",
           "SlaNotice", "SlaPolicy", "Ticket", "TimeEntry"]
