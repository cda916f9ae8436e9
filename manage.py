#!/usr/bin/env python
"""Django's command-line utility (the same as the ``jingzhun`` console script)."""

from jingzhun.cli import main

if __name__ == "__main__":
    main()
