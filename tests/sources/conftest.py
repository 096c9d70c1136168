"""Fixtures writing OneRoster zips and spreadsheets under tmp_path."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

Writer = Callable[..., Path]


@pytest.fixture
def oneroster_zip(tmp_path: Path) -> Writer:
    """Write a OneRoster zip from {file name: text or bytes}; returns its path."""

    def write(files: dict[str, str | bytes], name: str = "oneroster.zip", folder: str = "") -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for file_name, content in files.items():
                data = content.encode("utf-8") if isinstance(content, str) else content
                archive.writestr(folder + file_name, data)
        return path

    return write


@pytest.fixture
def write_file(tmp_path: Path) -> Writer:
    """Write a file under tmp_path from text (UTF-8 unless `encoding`) or bytes; returns its path."""

    def write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        return path

    return write
