"""Domain exceptions. Operations raise these; the web and API edges turn them into answers."""


class DomainError(Exception):
    """A refusal with a message for the user (Chinese)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403


class Conflict(DomainError):
    """Someone else changed the case first, or the task was already done."""

    status = 409


class TaskAlreadyDone(Conflict):
    """The task was completed: by whom and when go into the answer beside the message."""

    def __init__(self, message: str, details: dict[str, object]) -> None:
        super().__init__(message)
        self.details = details


class InvalidInput(DomainError):
    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}
