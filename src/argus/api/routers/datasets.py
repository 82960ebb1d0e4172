"""Dataset export: labelled hard examples as a COCO and YOLO ZIP with a manifest.

``POST /datasets/preview`` answers what an export would hold (counts per
split, class, camera and model; examples left out); ``POST /datasets/export``
answers the ZIP itself (audited as ``dataset.export``). Both need
``configure`` (the router's guard) and see only the caller's cameras.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.datasets import DatasetExportCreate, DatasetSummaryPublic
from argus.api.security import Acting
from argus.services.dataset_export import DatasetExporter

__all__ = ["router"]

router = APIRouter(
    prefix="/datasets", tags=["Dataset export"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)


def get_datasets(runtime: RuntimeDep) -> DatasetExporter:
    """The app's dataset exporter."""
    return runtime.learning.datasets


DatasetsDep = Annotated[DatasetExporter, Depends(get_datasets)]


@router.post("/preview", summary="Preview a dataset export")
async def preview(
    body: DatasetExportCreate, datasets: DatasetsDep, actor: Acting
) -> DatasetSummaryPublic:
    """Counts of what an export with these choices would hold, without writing it."""
    return DatasetSummaryPublic.of(await datasets.preview(actor, body.command()))


@router.post(
    "/export",
    summary="Export a dataset (COCO and YOLO)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The dataset ZIP."}},
)
async def export(body: DatasetExportCreate, datasets: DatasetsDep, actor: Acting) -> Response:
    """A ZIP with ``images/{train,val}``, ``annotations/{train,val}.json`` (COCO),
    ``labels/{train,val}`` and ``data.yaml`` (YOLO), and ``manifest.json`` (file hashes,
    source cameras, model versions, licences, split rule, counts)."""
    archive = await datasets.export(actor, body.command())
    return Response(
        archive.data,
        media_type="application/zip",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{archive.filename}"',
            "X-Content-SHA256": archive.sha256,
        },
    )
