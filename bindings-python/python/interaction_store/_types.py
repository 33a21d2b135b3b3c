"""Type aliases of the string options taken and returned by interaction_store.

Written as unions of one-value Literals (equivalent for type checkers) so that
``mypy.stubtest`` sees a runtime ``Union`` to compare with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Union

__all__ = ["Role", "Sort", "RangeMode", "Seconds", "CacheBackend"]

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
