"""The JSON API under /api/v1: see `blueprint.py` for every URL."""

from .blueprint import bp

__all__ = ["bp"]
