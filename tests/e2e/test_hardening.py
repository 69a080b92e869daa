"""Hostile input: archives that try to escape or explode, and what the server does with
them; refused with AWS's errors, with nothing written outside the data directory."""
import io
import uuid
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import create

UNZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."


def archive(entries):
    """A zip of (name, data, unix mode) entries, written as given (no name checks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def refusal(lam, code):
    with pytest.raises(ClientError) as e:
        create(lam, f"hostile-{uuid.uuid4().hex[:8]}", code=code)
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_archives_that_escape_or_repeat_themselves_are_refused(lamina, lam):
    marker = f"lamina-escape-{uuid.uuid4().hex}"
    app = ("app.py", b"def handler(e, c):\n    return 1\n", 0o100644)
    cases = {
        "zip-slip": [app, (f"../../../../../../tmp/{marker}", b"x", 0o100644)],
        "absolute path": [app, (f"/tmp/{marker}", b"x", 0o100644)],
        "symlink to /": [app, ("root", b"/", 0o120777)],
        "symlink climbing out": [app, ("lib/up", b"../../..", 0o120777)],
        "a name twice": [app, ("./app.py", b"def handler(e, c):\n    return 2\n", 0o100644)],
    }
    for case, entries in cases.items():
        assert refusal(lam, archive(entries)) == (400, "InvalidParameterValueException", UNZIP), case
    assert not Path(f"/tmp/{marker}").exists()
    assert not any(p.name == marker for p in Path(lamina.data_dir).rglob("*"))
    assert lam.list_functions()["Functions"] == []


def test_an_archive_that_unzips_past_the_limit_is_refused(lamina, lam):
    # A few hundred KiB of zip that would unzip past Lambda's 250 MB.
    bomb = archive([("app.py", b"x = 1\n", 0o100644), ("zeros.bin", bytes(263 * 1024 * 1024), 0o100644)])
    assert len(bomb) < 1024 * 1024
    status, code, message = refusal(lam, bomb)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == "Unzipped size must be smaller than 262144000 bytes"
