"""Type aliases of the string options taken and returned by interaction_store.

Written as unions of one-value Literals (equivalent for type checkers) so that
``mypy.stubtest`` sees a runtime ``Union`` to compare with.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Optional, TypedDict, Union

from interaction_store._native import LocalTime

__all__ = [
    "Role",
    "Sort",
    "RangeMode",
    "Seconds",
    "CacheBackend",
    "MigrationState",
    "NewInteraction",
]

#: A user's role at a site; each includes the rights of the one before it.
Role = Union[Literal["viewer"], Literal["editor"], Literal["admin"]]
#: Finder sort orders.
Sort = Union[
    Literal["start_desc"], Literal["start_asc"], Literal["created_desc"], Literal["relevance"]
]
#: How ``Finder.date_range`` matches an interaction's ``[start, end]``.
RangeMode = Union[Literal["overlap"], Literal["contained"]]
#: A duration: seconds or a ``timedelta``.
Seconds = Union[int, float, timedelta]
#: Where a store caches: ``CacheStats.backend``.
CacheBackend = Union[Literal["redis"], Literal["memory"], Literal["off"]]
#: How a recorded migration compares with this library's: ``MigrationCheck.state``.
MigrationState = Union[
    Literal["applied"], Literal["modified"], Literal["unknown"], Literal["pending"]
]


class _NewInteractionRequired(TypedDict):
    title: str
    interaction_type: str
    lead: str
    start: Union[datetime, LocalTime]
    end: Union[datetime, LocalTime]
    timezone: str


class NewInteraction(_NewInteractionRequired, total=False):
    """One item of ``SiteSession.create_interactions()``: the keyword arguments of
    ``create_interaction()`` as a dict (``start``/``end`` aware datetimes or
    ``LocalTime``s)."""

    location: Optional[str]
    description: Optional[str]
    notes: Optional[str]
    idempotency_key: Optional[str]
