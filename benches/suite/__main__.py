"""`python -m suite` (with benches/ on sys.path) is `benches/run`."""

import sys

from suite.cli import main

sys.exit(main())
