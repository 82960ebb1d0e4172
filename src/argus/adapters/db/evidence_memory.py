"""Evidence metadata in a dict: the fake for service tests and the contract's reference.

It keeps the ordering, filters, optimistic versions and the deletion lock of
the SQL store (``evidence_sql``).
"""

from __future__ import annotations

from dataclasses import replace

from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.evidence import EvidenceItem
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap
from argus.ports.evidence import ALL_EVIDENCE, EvidenceFilter
from argus.ports.paging import Page, check_page

__all__ = ["MemoryEvidenceRepository"]


class MemoryEvidenceRepository:
    """Evidence items in a dict (see ``EvidenceRepository``)."""

    def __init__(self) -> None:
        self._items: dict[str, EvidenceItem] = {}
        self._gaps: dict[str, EvidenceGap] = {}

    def _get(self, evidence_id: str) -> EvidenceItem:
        try:
            return self._items[evidence_id]
        except KeyError:
            raise NotFoundError(f"no evidence {evidence_id}") from None

    async def add(self, item: EvidenceItem) -> None:
        if item.id in self._items:
            raise ConflictError(f"evidence {item.id} already exists")
        self._items[item.id] = item

    async def get(self, evidence_id: str) -> EvidenceItem:
        return self._get(evidence_id)

    async def list(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceItem]:
        check_page(limit, offset)
        if where.created_before is not None:
            where = replace(where, created_before=aware_utc(where.created_before, "created_before"))
        found = [item for item in self._items.values() if where.matches(item)]
        found.sort(key=lambda item: (item.created_at, item.id))
        return Page(tuple(found[offset : offset + limit]), len(found))

    async def browse(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceEntry]:
        # Items in a dict cannot be edited behind the repository's back: none is tampered.
        page = await self.list(where, limit=limit, offset=offset)
        return Page(tuple(page.items), page.total)

    async def record_gap(self, gap: EvidenceGap) -> None:
        self._gaps[gap.alert_id] = gap

    async def gaps(
        self,
        *,
        alert_id: str | None = None,
        camera_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceGap]:
        check_page(limit, offset)
        found = [
            gap
            for gap in self._gaps.values()
            if (alert_id is None or gap.alert_id == alert_id)
            and (camera_id is None or gap.camera_id == camera_id)
        ]
        found.sort(key=lambda gap: (gap.at, gap.alert_id), reverse=True)
        return Page(tuple(found[offset : offset + limit]), len(found))

    async def update(self, item: EvidenceItem) -> None:
        stored = self._get(item.id)
        if stored.version != item.version - 1:
            raise ConflictError(
                f"evidence {item.id} is at version {stored.version}, not {item.version - 1}: "
                "it changed meanwhile"
            )
        self._items[item.id] = item

    async def delete(self, evidence_id: str) -> None:
        if self._get(evidence_id).locked:
            raise ConflictError(f"evidence {evidence_id} is locked")
        del self._items[evidence_id]
