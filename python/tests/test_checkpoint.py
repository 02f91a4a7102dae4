"""Checkpoint store operations; capture is not implemented yet."""

from __future__ import annotations

from pathlib import Path

import pytest

import sandlock
from sandlock import Checkpoint


def test_list_and_delete(tmp_path: Path) -> None:
    assert Checkpoint.list(store=tmp_path / "none") == []
    for name in ("b", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "meta.json").write_text("{}")
    (tmp_path / "incomplete").mkdir()
    assert Checkpoint.list(store=tmp_path) == ["a", "b"]
    Checkpoint.delete("a", store=tmp_path)
    assert Checkpoint.list(store=tmp_path) == ["b"]
    with pytest.raises(FileNotFoundError):
        Checkpoint.delete("a", store=tmp_path)


def test_load_missing_and_not_implemented(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Checkpoint.load("nothing", store=tmp_path)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "meta.json").write_text("{}")
    with pytest.raises(sandlock.NotImplementedFeatureError):
        Checkpoint.load("c", store=tmp_path)
    with pytest.raises(sandlock.NotImplementedFeatureError):
        Checkpoint.restore("c", lambda state: None, store=tmp_path)


@pytest.mark.parametrize("name", ["", "a/b", ".hidden"])
def test_invalid_names(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Checkpoint.load(name, store=tmp_path)
    with pytest.raises(ValueError):
        Checkpoint().save(name, store=tmp_path)


def test_properties_and_save() -> None:
    cp = Checkpoint()
    assert cp.name is None and cp.app_state is None
    cp.name = "x"
    cp.app_state = b"state"
    assert cp.name == "x" and cp.app_state == b"state"
    with pytest.raises(sandlock.NotImplementedFeatureError):
        cp.save("x")
