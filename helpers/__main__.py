"""``python -m helpers ...``: the course kit's command line."""

from helpers.cli import main

raise SystemExit(main())
