"""``python -m numnet`` is the ``numnet`` command."""

from numnet.cli import main

raise SystemExit(main())
