"""``python -m voxclone``: the same as the ``voxclone`` command."""

import sys

from voxclone.cli import main

if __name__ == "__main__":
    sys.exit(main())
