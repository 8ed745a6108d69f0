#!/usr/bin/env python
"""`python scripts/plot.py --help`: a thin wrapper over `tinyemo plot` (tinyemo/cli/)."""
import sys

from tinyemo.cli.plot import plot_main

if __name__ == "__main__":
    sys.exit(plot_main())
