"""Entry point: ``python -m console`` and the ``oncall-console`` command."""

from __future__ import annotations

import time

#: When this process began running the console (``time.perf_counter``): taken before anything
#: else is imported, so that the startup probe (console.ui.startup) counts the imports too.
STARTED_AT = time.perf_counter()

import sys  # noqa: E402

from console.cli import main as cli_main  # noqa: E402


def main() -> None:
    """Run the command line and exit with its status."""
    sys.exit(cli_main(sys.argv[1:], started_at=STARTED_AT))


if __name__ == "__main__":
    main()
