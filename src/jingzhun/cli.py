"""The ``jingzhun`` console script: every management command as ``jingzhun <command>``."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a Django management command."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingzhun.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        # `jingzhun demo-data` and `jingzhun demo_data` name the same command.
        args[0] = args[0].replace("-", "_")
    execute_from_command_line([sys.argv[0], *args])


if __name__ == "__main__":
    main()
