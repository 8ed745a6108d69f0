"""``python -m tinyemo COMMAND …``: the ``tinyemo`` command."""
import sys

from tinyemo.cli import main

sys.exit(main())
