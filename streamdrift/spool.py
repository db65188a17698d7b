"""Standard input copied to a temporary file that cannot outlive the process.

Parquet keeps its index at its end, and ``compare`` reads each side twice, so bytes piped in
are first copied to a file: an unlinked one, read through its descriptor.
"""

import shutil
import sys
import tempfile
from pathlib import Path


class Spool:
    """A copy of standard input in an unlinked temporary file, read through its descriptor.

    The file has no name in TMPDIR (``O_TMPFILE``, or unlinked at once), so it cannot outlive
    the process, whatever ends it (even SIGKILL); ``path`` opens it again by descriptor.
    """

    def __init__(self, stream, head: bytes = b""):
        self._file = tempfile.TemporaryFile(prefix="streamdrift-stdin-")
        try:
            self._file.write(head)
            shutil.copyfileobj(stream, self._file, 1 << 20)
            self._file.flush()
        except BaseException:
            self._file.close()
            raise
        self.size = self._file.tell()
        self.path = Path(f"/dev/fd/{self._file.fileno()}")

    def close(self) -> None:
        self._file.close()


def spool_stdin(stream=None, head: bytes = b"") -> Spool:
    """Standard input (``head``, its first bytes already read, then the rest) copied to a ``Spool``:
    Parquet needs its footer, and two passes need a replay."""
    return Spool(sys.stdin.buffer if stream is None else stream, head)
