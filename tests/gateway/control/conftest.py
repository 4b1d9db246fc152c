"""The fixtures of the tests of a running ``gateway serve``."""

from tests.records_url import records_url

__all__ = ["records_url"]
