"""Domain errors. Each adapter renders them as Conduit's ``{"errors": {field: [msg]}}``."""

from __future__ import annotations


class ConduitError(Exception):
    status_code = 500

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def on(cls, field: str, message: str) -> ConduitError:
        return cls({field: [message]})

    def to_body(self) -> dict[str, dict[str, list[str]]]:
        return {"errors": self.errors}


class ValidationFailed(ConduitError):
    status_code = 422


class Unauthorized(ConduitError):
    status_code = 401

    def __init__(self, message: str = "is missing", *, field: str = "token") -> None:
        super().__init__({field: [message]})


class Forbidden(ConduitError):
    status_code = 403

    def __init__(self, resource: str) -> None:
        super().__init__({resource: ["forbidden"]})


class NotFound(ConduitError):
    status_code = 404

    def __init__(self, resource: str) -> None:
        super().__init__({resource: ["not found"]})


class Conflict(ConduitError):
    status_code = 409

    def __init__(self, *fields: str) -> None:
        super().__init__({field: ["has already been taken"] for field in fields})


class Unavailable(ConduitError):
    """The database cannot be reached, or did not answer in time: try again shortly."""

    status_code = 503
    # Seconds a client is asked to wait before trying again (the Retry-After header).
    retry_after = 5

    def __init__(self) -> None:
        super().__init__({"database": ["unavailable, try again shortly"]})
