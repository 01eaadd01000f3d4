"""The ctypes declarations and the library lookup."""
import ctypes
import re

import pytest

from en_notify import _library
from conftest import REPO


def header_functions():
    header = (REPO / "include" / "en_notify.h").read_text()
    return set(re.findall(r"^[a-z_][\w \*]*?\b(en_\w+)\(", header, re.M))


def test_every_header_function_is_declared():
    functions = header_functions()
    assert "en_open" in functions and "en_set_transport" in functions
    assert functions == set(_library.SIGNATURES)
    lib = _library.library()
    for name in functions:
        assert getattr(lib, name).argtypes is not None, name


def test_report_layout_matches_c():
    assert ctypes.sizeof(_library.CReport) == 32


def test_explicit_path_that_is_not_a_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("EN_NOTIFY_LIBRARY", str(tmp_path / "missing.so"))
    with pytest.raises(_library.LibraryNotFoundError, match="missing.so"):
        _library.find_library()


def test_lookup_lists_every_place_it_looked(monkeypatch, tmp_path):
    monkeypatch.delenv("EN_NOTIFY_LIBRARY", raising=False)
    monkeypatch.setattr(_library, "PACKAGE_DIR", tmp_path / "site" / "en_notify")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(_library.LibraryNotFoundError) as caught:
        _library.find_library()
    text = str(caught.value)
    for place in (tmp_path / "site" / "en_notify" / "liben_notify.so",
                  tmp_path / "site" / "en_notify" / "en_notify.dll",
                  tmp_path / "site" / "target" / "debug" / "liben_notify.dylib",
                  tmp_path / "target" / "release" / "liben_notify.so"):
        assert str(place) in text


def test_lookup_order(monkeypatch, tmp_path):
    monkeypatch.delenv("EN_NOTIFY_LIBRARY", raising=False)
    package = tmp_path / "site" / "en_notify"
    monkeypatch.setattr(_library, "PACKAGE_DIR", package)
    monkeypatch.chdir(tmp_path)
    debug = tmp_path / "target" / "debug" / "liben_notify.so"
    debug.parent.mkdir(parents=True)
    debug.touch()
    assert _library.find_library() == debug
    release = tmp_path / "target" / "release" / "en_notify.dll"
    release.parent.mkdir(parents=True)
    release.touch()
    assert _library.find_library() == release
    package.mkdir(parents=True)
    (package / "liben_notify.so").touch()
    assert _library.find_library() == package / "liben_notify.so"
    monkeypatch.setenv("EN_NOTIFY_LIBRARY", str(debug))
    assert _library.find_library() == debug
