"""The public self-check of this assignment: run it before you submit.

    python selfcheck.py [PATH]        (PATH: a notebook, a folder or a zip; default: this folder)

It needs numpy only, and no solutions.  The notebooks also use it to reuse your functions from
an earlier notebook (``from selfcheck import import_cells``).

(Every release gets this file at its root as ``selfcheck.py``.)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the release folder: linclass/ ships here

from linclass.student.selfcheck import import_cells, run_main  # noqa: E402, F401 - import_cells: for the notebooks

if __name__ == "__main__":
    sys.exit(run_main(here=os.path.dirname(os.path.abspath(__file__))))
