"""Standard input copied to a temporary file that cannot outlive the process.

Parquet keeps its index at its end, and ``compare`` reads each side twice, so bytes piped in
are first copied to a file: an unlinked one, read through its descriptor.
"""

import errno
import shutil
import sys
import tempfile
from pathlib import Path

from streamdrift.errors import DriftError


class Spool:
    """A copy of standard input in an unlinked temporary file, read through its descriptor.

    The file has no name in TMPDIR (``O_TMPFILE``, or unlinked at once), so it cannot outlive
    the process, whatever ends it (even SIGKILL); ``path`` opens it again by descriptor.
    """

    def __init__(self, stream, head: bytes = b""):
        copied = 0
        try:
            self._file = tempfile.TemporaryFile(prefix="streamdrift-stdin-")
        except OSError as exc:
            raise DriftError(_no_room(exc, copied)) from None
        try:
            self._file.write(head)
            copied = len(head)
            while chunk := stream.read(1 << 20):
                self._file.write(chunk)
                copied += len(chunk)
            self._file.flush()
        except OSError as exc:
            self._file.close()
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            raise DriftError(_no_room(exc, copied)) from None
        except BaseException:
            self._file.close()
            raise
        self.size = self._file.tell()
        self.path = Path(f"/dev/fd/{self._file.fileno()}")

    def close(self) -> None:
        self._file.close()


def _no_room(exc: OSError, copied: int) -> str:
    """The one-line error for a TMPDIR without room: where, how much was copied, what to do."""
    folder = tempfile.gettempdir()
    try:
        free = f"{shutil.disk_usage(folder).free:,} bytes free"
    except OSError:
        free = "free space unknown"
    return (f"cannot copy standard input to a temporary file in TMPDIR ({folder}): "
            f"{(exc.strerror or str(exc)).lower()} after {copied:,} bytes ({free}); Parquet or Arrow file bytes "
            f"on standard input are copied whole first, so TMPDIR needs room for more than {copied:,} bytes: "
            "point TMPDIR at a roomier directory, or pass the file by name")


def spool_stdin(stream=None, head: bytes = b"") -> Spool:
    """Standard input (``head``, its first bytes already read, then the rest) copied to a ``Spool``:
    Parquet needs its footer, and two passes need a replay."""
    return Spool(sys.stdin.buffer if stream is None else stream, head)
