"""``python -m rec_fast``: the ``rec-fast`` command (:mod:`rec_fast.cli`)."""

import sys

from rec_fast.cli import main

if __name__ == "__main__":
    sys.exit(main())
