"""``python -m sync``: the reference sync client's command line (sync/client/cli.py)."""

import sys

from sync.client.cli import main

sys.exit(main())
