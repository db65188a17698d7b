"""The memory cgroup layer: everything a run charges (anonymous memory, memfd and shm, tmpfs
files, pipe buffers) counted together against one limit. cgroup v1 (``memory`` controller)
or v2, where the machine has one and we may create groups."""

from __future__ import annotations

import os
import uuid
from functools import lru_cache

V1 = "/sys/fs/cgroup/memory"
V2 = "/sys/fs/cgroup"
PARENT = "streamdrift-sandbox"


@lru_cache(maxsize=1)
def _base() -> tuple[str, int] | None:
    """``(directory our groups go in, version)``, or None when no memory cgroup can be made."""
    for root, version, marker in ((V1, 1, "memory.limit_in_bytes"), (V2, 2, "cgroup.subtree_control")):
        if not os.path.isfile(os.path.join(root, marker)):
            continue
        base = os.path.join(root, PARENT)
        try:
            os.makedirs(base, exist_ok=True)
            if version == 2:
                with open(os.path.join(base, "cgroup.subtree_control"), "w") as fh:
                    fh.write("+memory")
            probe = os.path.join(base, "probe-" + uuid.uuid4().hex[:8])
            os.mkdir(probe)
            os.rmdir(probe)
            _sweep(base)
            return base, version
        except OSError:
            continue
    return None


def _sweep(base: str) -> None:
    """Remove the groups of graders that have ended without removing them (killed, e.g. a Dask
    worker): a group is named after its grader's pid, and only an empty group can be removed."""
    for name in os.listdir(base):
        owner = name.partition("-")[0]
        if owner.isdigit() and not _alive(int(owner)):
            try:
                os.rmdir(os.path.join(base, name))
            except OSError:
                pass  # a process is still in it, or another grader removed it first


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


ENABLED = True
"""Switch for measuring this layer's cost (benchmarks/_grader_bench.py); the grader leaves it on."""


def available() -> bool:
    return ENABLED and _base() is not None


class MemoryGroup:
    """One memory cgroup: processes written to ``procs`` are charged against ``limit``."""

    def __init__(self):
        base = _base()
        if base is None:
            raise OSError("no memory cgroup can be created here")
        self.version = base[1]
        self.path = os.path.join(base[0], f"{os.getpid()}-{uuid.uuid4().hex}")
        os.mkdir(self.path)
        self.procs = os.path.join(self.path, "cgroup.procs")
        self._kills = 0

    def _write(self, name: str, value: str) -> bool:
        try:
            with open(os.path.join(self.path, name), "w") as fh:
                fh.write(value)
            return True
        except OSError:
            return False

    def _read(self, name: str) -> str:
        try:
            with open(os.path.join(self.path, name)) as fh:
                return fh.read()
        except OSError:
            return ""

    def usage(self) -> int:
        text = self._read("memory.usage_in_bytes" if self.version == 1 else "memory.current").strip()
        return int(text) if text.isdigit() else 0

    def limit(self, nbytes: int) -> None:
        """Charge at most ``nbytes`` (and no swap) to this group from now on."""
        if self.version == 1:
            self._write("memory.limit_in_bytes", str(nbytes))
            self._write("memory.memsw.limit_in_bytes", str(nbytes))
        else:
            self._write("memory.max", str(nbytes))
            self._write("memory.swap.max", "0")

    def oom_kills(self) -> int:
        """How many processes the kernel killed here for memory, since the group was made."""
        text = self._read("memory.oom_control" if self.version == 1 else "memory.events")
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def new_kills(self) -> bool:
        """Whether a process was killed for memory since the last call."""
        kills = self.oom_kills()
        new, self._kills = kills > self._kills, kills
        return new

    def remove(self) -> None:
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def enter_command(group: MemoryGroup | None, argv: list[str]) -> list[str]:
    """``argv`` started inside ``group``: a shell writes its own pid to the group, then execs."""
    if group is None:
        return argv
    return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', group.procs, *argv]
