"""The cabinet's own operations (sign-in, codes, "see as client"); everything about money,
tariffs and tickets is the other apps' services, called from the cabinet's views."""
