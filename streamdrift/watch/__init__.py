"""``watch``: the drift of consecutive windows of a stream of record batches against a reference.

One job per module, in the order the data flows:

* ``reference.py``: the reference, loaded once (a profile, or fixed histograms);
* ``sources.py``: files, directories and standard input as one stream of batches;
* ``follow.py``: a directory polled for new, complete files (``--follow``);
* ``windows.py``: ``Watcher`` cuts batches into windows, ``Window`` is one's result;
* ``run.py``: ``watch()``, the loop that joins them, with hooks for the command line.
"""

from streamdrift.watch.follow import Follower, complete
from streamdrift.watch.reference import EDGES, STDIN, Reference, load_reference, profile_reference
from streamdrift.watch.run import watch
from streamdrift.watch.sources import Problem, Stop, batches, check_sources, file_batches, stdin_batches
from streamdrift.watch.windows import Watcher, Window

__all__ = [
    "EDGES",
    "STDIN",
    "Follower",
    "Problem",
    "Reference",
    "Stop",
    "Watcher",
    "Window",
    "batches",
    "check_sources",
    "complete",
    "file_batches",
    "load_reference",
    "profile_reference",
    "stdin_batches",
    "watch",
]
