"""Working-day calendar: public holidays and admin overrides."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.problems import error_responses

router = APIRouter(prefix="/calendar", tags=["calendar"], responses=error_responses(401))
