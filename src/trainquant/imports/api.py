"""Placeholder router; the imports domain fills it in."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["import"])
