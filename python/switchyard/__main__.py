"""`python -m switchyard` runs the CLI."""

import sys

from switchyard.cli import main

sys.exit(main())
