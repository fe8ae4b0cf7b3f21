"""The processing slip's actions, events and the slip itself."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.problems import error_responses

router = APIRouter(prefix="/incoming-documents/{document_id}", tags=["workflow"], responses=error_responses(401, 404))
