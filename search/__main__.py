"""``python -m search`` is the ``zhsearch`` command."""

from .cli import main

raise SystemExit(main())
