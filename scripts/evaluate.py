#!/usr/bin/env python
"""`python scripts/evaluate.py --help`: a thin wrapper over `tinyemo evaluate` (tinyemo/cli/)."""
import sys

from tinyemo.cli.predict import evaluate_main

if __name__ == "__main__":
    sys.exit(evaluate_main())
