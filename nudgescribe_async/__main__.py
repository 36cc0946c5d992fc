"""`python -m nudgescribe_async`: the `nudgescribe` command line."""

from ._cli import main

raise SystemExit(main())
