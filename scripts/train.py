#!/usr/bin/env python
"""`python scripts/train.py --help`: a thin wrapper over `tinyemo train` (tinyemo/cli/)."""
import sys

from tinyemo.cli.train import train_main

if __name__ == "__main__":
    sys.exit(train_main())
