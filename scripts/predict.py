#!/usr/bin/env python
"""`python scripts/predict.py --help`: a thin wrapper over `tinyemo predict` (tinyemo/cli/)."""
import sys

from tinyemo.cli.predict import predict_main

if __name__ == "__main__":
    sys.exit(predict_main())
