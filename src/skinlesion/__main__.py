"""``python -m skinlesion`` runs the command line."""

from skinlesion.cli import main

raise SystemExit(main())
