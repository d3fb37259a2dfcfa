from .calendar import CalendarDay
from .org import Branch, City, User

__all__ = ["Branch", "CalendarDay", "City", "User"]
