"""The one domain error type: a business rule forbids the action now.

The UI shows it as a message, the API answers 409 with the detail (API.md). ``code`` is a
stable machine-readable name; the message names the missing condition and, where useful,
who can lift it."""


class RuleViolation(Exception):
    def __init__(self, message: str, code: str = "rule_violation"):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)
