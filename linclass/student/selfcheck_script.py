"""The public self-check of this assignment: run it before you submit.

    python selfcheck.py [PATH] [--part NAME]   (PATH: a notebook, a folder or a zip; default: this folder)
    %run selfcheck.py [--part NAME]            (the same, in a notebook cell)

It needs numpy only, and no solutions.  The notebooks also use it: each test cell runs the
checks of its function on your live code (``check_cell``), and a later notebook reuses your
functions from an earlier one (``import_cells``).

(Every release gets this file at its root as ``selfcheck.py``.)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the release folder: linclass/ ships here

from linclass.student.live import check_cell  # noqa: E402, F401 - for the notebooks' test cells
from linclass.student.selfcheck import import_cells, script_main  # noqa: E402, F401 - import_cells: the notebooks

if __name__ == "__main__":
    script_main(here=os.path.dirname(os.path.abspath(__file__)))
