"""The value the use cases of the bulk import return: an import job, its progress and how it
ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .csvimport import RowError

JobStatus = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True)
class ImportJob:
    """A job with its detected encoding, its progress (processed of total rows), what it
    wrote, and its bad rows by line; any error means nothing was written."""

    job_id: str
    status: JobStatus
    encoding: str | None
    total: int
    processed: int
    created: int
    updated: int
    unchanged: int
    errors: tuple[RowError, ...]
