"""``--state FILE``: where a watch over files stands, saved after every window, so that a restart continues.

After each window the file records which files are done and where the open window began
(its number, its first row, the file it begins in and how many of that file's rows come
before it). It is written atomically: a temporary file in the same directory, fsync,
rename, fsync of the directory; a crash leaves the old state or the new one, never a mix.
A restart reads from where the open window began, so only that window can be reported
again, and then identically. A state is tied to what makes windows what they are (the
reference's content, the features, window size, edges mode, bins, threshold, sources):
another one is refused, naming what differs.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from streamdrift.errors import DriftError

FORMAT = "streamdrift-watch-state"
VERSION = 1


@dataclass
class Position:
    """Where the open window begins: its number, its first row, and where that row is in the files."""

    window: int = 0
    row: int = 0
    file: str | None = None
    offset: int = 0


@dataclass
class Checkpoint:
    """The saved progress of a watch: ``done`` files, the open window's ``position``, and the ``settings`` it is for."""

    path: Path
    settings: dict
    done: list[str] = field(default_factory=list)
    position: Position = field(default_factory=Position)

    @classmethod
    def open(cls, path, settings: dict) -> "Checkpoint":
        """The state saved at ``path`` (a new one when there is none); a DriftError when it is for other settings."""
        path = Path(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls(path, settings)
        except OSError as exc:
            raise DriftError(f"cannot read state '{path}': {exc.strerror or exc}") from None
        try:
            saved = json.loads(text)
            if saved.get("format") != FORMAT:
                raise ValueError("not a streamdrift watch state")
            if saved.get("version") != VERSION:
                raise ValueError(f"version {saved.get('version')!r}, this streamdrift reads version {VERSION}")
            done, position = [str(p) for p in saved["done"]], Position(**saved["position"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DriftError(f"state '{path}' is not a usable watch state ({exc}); remove it to start again") from None
        before = saved.get("settings") or {}
        differ = [k for k in settings if before.get(k) != settings[k]]
        if len(differ) > 1 and "reference" in differ:  # its digest follows the edges, bins and features
            differ.remove("reference")
        if differ:
            what = "; ".join(f"{k}: {_short(before.get(k))} there, {_short(settings[k])} now" for k in differ)
            raise DriftError(f"state '{path}' was written for another {', '.join(differ)} ({what}); "
                             "use another --state file, or remove it to start again")
        return cls(path, settings, done, position)

    def save(self) -> None:
        """Write the state atomically (write, fsync, rename, fsync the directory)."""
        data = json.dumps(dict(format=FORMAT, version=VERSION, settings=self.settings, done=self.done,
                               position=asdict(self.position)), indent=1)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            with open(tmp, "w") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as exc:
            raise DriftError(f"cannot write state '{self.path}': {exc.strerror or exc}") from None


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
