"""npm packages that a test drives (the GraphQL-over-HTTP audit, the Apollo client), installed on first use.

`npm ci` from the committed package-lock.json, under a file lock: CI runs the SQLite and the PostgreSQL suites
side by side in one checkout, and two `npm ci` in one folder at once would break each other's node_modules.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path


def ensure_node_modules(folder: Path, package: str, timeout: float = 300) -> None:
    """Install `folder`'s locked packages unless `package` is already there. Fails (never skips) without npm."""
    assert shutil.which("node") and shutil.which("npm"), f"Node.js and npm are needed for {folder.name}"
    with open(folder / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / "node_modules" / package).exists():
                done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True,
                                      text=True, timeout=timeout)
                assert done.returncode == 0, f"npm ci in {folder} failed:\n{done.stderr[-2000:]}"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
