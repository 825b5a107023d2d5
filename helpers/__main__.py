"""``python -m helpers ...``: the course kit's command line."""

from .cli import main

raise SystemExit(main())
