#!/usr/bin/env python
"""`python scripts/sweep.py SPACE.toml --help`: a thin wrapper over `tinyemo sweep`
(tinyemo/cli/sweep.py)."""
import sys

from tinyemo.cli.sweep import sweep_main

if __name__ == "__main__":
    sys.exit(sweep_main())
