"""`python -m hub` is the `hub` console script."""

from hub.cli import main

raise SystemExit(main())
