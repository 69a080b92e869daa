"""Installs aws CLI v2 into a virtualenv, for `aws logs tail`, which v1 lacks.

AWS does not publish CLI v2 on PyPI, so this takes Debian's `awscli` package (pinned by
SHA-256) and copies its pure-Python `awscli` tree into the virtualenv's site-packages;
the dependencies come from tests/requirements-awscli2.txt. Usage:

    install_awscli2.py <venv>
"""

import hashlib
import io
import lzma
import os
import sys
import sysconfig
import tarfile
import urllib.request

URL = "http://deb.debian.org/debian/pool/main/a/awscli/awscli_2.9.19-1_all.deb"
SHA256 = "def31284c1d8dab046504272f9f810ad17ef33cd5677984d9a1712a1e499b3af"
PREFIX = "./usr/lib/python3/dist-packages/awscli/"


def ar_members(data):
    """The members of an `ar` archive (a .deb), by name."""
    assert data[:8] == b"!<arch>\n", "not an ar archive"
    at, out = 8, {}
    while at + 60 <= len(data):
        header = data[at : at + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        out[name] = data[at + 60 : at + 60 + size]
        at += 60 + size + (size % 2)
    return out


def main():
    venv = os.path.abspath(sys.argv[1])
    site = sysconfig.get_path("purelib", vars={"base": venv, "platbase": venv})
    deb = urllib.request.urlopen(URL, timeout=120).read()
    digest = hashlib.sha256(deb).hexdigest()
    if digest != SHA256:
        sys.exit(f"{URL}: sha256 {digest}, expected {SHA256}")
    data = next(v for k, v in ar_members(deb).items() if k.startswith("data.tar"))
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(data) if data[:6] == b"\xfd7zXZ\x00" else data)) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(PREFIX) and (m.isfile() or m.isdir())]
        for m in members:
            m.name = "awscli/" + m.name[len(PREFIX) :]
        tar.extractall(site, members=members, filter="data")
    aws = os.path.join(venv, "bin", "aws")
    with open(aws, "w") as f:
        f.write(f"#!{os.path.join(venv, 'bin', 'python')}\nimport sys\nimport awscli.clidriver\nsys.exit(awscli.clidriver.main())\n")
    os.chmod(aws, 0o755)


if __name__ == "__main__":
    main()
