"""Student ids become folder names under --out: they can never escape it or hit the class files."""

from __future__ import annotations

import pytest

from autograder.run import CLASS_FILES, safe_student_id


@pytest.mark.parametrize("raw", ["..", ".", ".hidden", "", "a/../../b", "../evil", *sorted(CLASS_FILES)])
def test_unsafe_ids_are_made_plain_folder_names(raw):
    sid = safe_student_id(raw)
    assert sid and "/" not in sid and not sid.startswith(".") and sid not in CLASS_FILES


@pytest.mark.parametrize("raw", ["alice", "bob.smith", "s123456", "carol@uni.edu", "d-e_f+g"])
def test_ordinary_ids_are_kept(raw):
    assert safe_student_id(raw) == raw
