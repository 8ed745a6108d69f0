#!/usr/bin/env python
"""`python scripts/baseline.py --help`: a thin wrapper over `tinyemo baseline` (tinyemo/cli/)."""
import sys

from tinyemo.cli.baseline import baseline_main

if __name__ == "__main__":
    sys.exit(baseline_main())
