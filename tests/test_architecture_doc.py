"""docs/architecture.md names every module of both packages (issue 14: keep it true)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "architecture.md").read_text()


def test_the_architecture_page_names_every_module():
    named = set(re.findall(r"`([\w/]+\.py)`", PAGE))
    missing = []
    for package in (ROOT / "firmware" / "heelraise", ROOT / "host" / "heelraise_host"):
        for path in sorted(package.rglob("*.py")):
            rel = path.relative_to(package).as_posix()
            if path.name in ("__init__.py", "__main__.py"):
                continue
            if rel not in named:
                missing.append(f"{package.name}/{rel}")
    assert not missing, "docs/architecture.md does not name: " + ", ".join(missing)
