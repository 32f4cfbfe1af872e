"""Exit 0 when every pin of requirements.txt (beside this file) is installed and httpbin imports
under gunicorn's Python; otherwise print what is missing and exit 1. Used by .ci/run."""

import importlib.metadata
import pathlib
import sys

missing = []
for line in (pathlib.Path(__file__).parent / "requirements.txt").read_text().splitlines():
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, version = line.partition("==")
    try:
        have = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        have = None
    if have != version:
        missing.append(f"{name}=={version} (installed: {have})")
try:
    import gunicorn  # noqa: F401
    import httpbin  # noqa: F401
    import authlib.integrations.flask_oauth2  # noqa: F401
except Exception as e:  # an import error of any kind means the pins do not work here
    missing.append(f"import failed: {e!r}")
if missing:
    print("missing:", ", ".join(missing))
    sys.exit(1)
