"""Supervision (III.3): semiannual inspections, their findings and rectifications."""

from __future__ import annotations
