"""Allow `python -m swaptui`."""

from swaptui.cli import main

raise SystemExit(main())
