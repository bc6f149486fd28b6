"""``python -m qmdrender``: see :func:`qmdrender.main`."""

import sys

from qmdrender import main

sys.exit(main())
