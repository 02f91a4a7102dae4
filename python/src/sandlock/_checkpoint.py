"""Checkpoints of running sandboxes.

Capturing a running sandbox is not implemented yet, so
:meth:`Sandbox.checkpoint` and :meth:`Checkpoint.save` raise
:class:`~sandlock.NotImplementedFeatureError`. The store operations that
only look at the filesystem (:meth:`Checkpoint.list`,
:meth:`Checkpoint.delete`, and the "missing" case of
:meth:`Checkpoint.load`) work.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, List, Optional, Union

from .exceptions import NotImplementedFeatureError

__all__ = ["Checkpoint"]

StorePath = Union[str, Path, None]


def _store(store: StorePath) -> Path:
    return Path(store) if store is not None else Path.home() / ".sandlock" / "checkpoints"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or "/" in name or name.startswith(".") or "\0" in name:
        raise ValueError(f"invalid checkpoint name {name!r}")


class Checkpoint:
    """A saved state of a sandbox: name, optional application state, and
    (once implemented) the captured processes."""

    def __init__(self, ptr: Any = None) -> None:
        self._ptr = ptr
        self._name: Optional[str] = None
        self._app_state: Optional[bytes] = None

    @property
    def name(self) -> Optional[str]:
        """The checkpoint's name."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        _check_name(value)
        self._name = value

    @property
    def app_state(self) -> Optional[bytes]:
        """Bytes the application stored with the checkpoint, or ``None``."""
        return self._app_state

    @app_state.setter
    def app_state(self, value: Optional[bytes]) -> None:
        self._app_state = None if value is None else bytes(value)

    def save(self, name: str, *, store: StorePath = None) -> Path:
        """Write the checkpoint to ``<store>/<name>`` (not implemented yet)."""
        _check_name(name)
        raise NotImplementedFeatureError("Checkpoint.save: checkpoints are not implemented yet")

    @classmethod
    def load(cls, name: str, *, store: StorePath = None) -> "Checkpoint":
        """Read a saved checkpoint.

        Raises:
            FileNotFoundError: there is no such checkpoint.
            NotImplementedFeatureError: reading checkpoints is not
                implemented yet.
        """
        _check_name(name)
        path = _store(store) / name
        if not (path / "meta.json").is_file():
            raise FileNotFoundError(f"no checkpoint {name!r} in {_store(store)}")
        raise NotImplementedFeatureError("Checkpoint.load: checkpoints are not implemented yet")

    @classmethod
    def restore(cls, name: str, restore_fn: Callable[[bytes], Any], *, store: StorePath = None) -> "Checkpoint":
        """Load a checkpoint and hand its application state to
        ``restore_fn`` (see :meth:`load` for errors)."""
        return cls.load(name, store=store)

    @classmethod
    def list(cls, *, store: StorePath = None) -> List[str]:
        """Names of the checkpoints in the store, sorted."""
        root = _store(store)
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file())

    @classmethod
    def delete(cls, name: str, *, store: StorePath = None) -> None:
        """Remove a saved checkpoint.

        Raises:
            FileNotFoundError: there is no such checkpoint.
        """
        _check_name(name)
        path = _store(store) / name
        if not path.is_dir():
            raise FileNotFoundError(f"no checkpoint {name!r} in {_store(store)}")
        shutil.rmtree(path)
