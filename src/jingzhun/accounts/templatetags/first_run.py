"""``{% setup_open as open %}``: whether the first-run page (/setup/) is open, for its link."""

from __future__ import annotations

from django import template

from jingzhun.accounts.views_setup import setup_open as _setup_open

register = template.Library()


@register.simple_tag
def setup_open() -> bool:
    """True while the installation has no county administrator."""
    return _setup_open()
