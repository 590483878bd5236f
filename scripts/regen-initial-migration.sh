#!/usr/bin/env bash
# Until the first release the schema is one migration, regenerated from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $(pwd)/alembic
sqlalchemy.url = sqlite:///$tmp/regen.db
INI
rm -f alembic/versions/0001_initial.py
.venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate --rev-id 0001 -m initial >/dev/null
mv alembic/versions/0001_initial.py alembic/versions/0001_initial.py 2>/dev/null || true
f=$(ls alembic/versions/0001_*.py)
[ "$f" = alembic/versions/0001_initial.py ] || mv "$f" alembic/versions/0001_initial.py
.venv/bin/ruff format -q alembic/versions/0001_initial.py
.venv/bin/ruff check -q --fix alembic/versions/0001_initial.py || true
# The revision id is a fingerprint of the content, so a database made by a build with
# another schema is named as such at start instead of passing the revision check.
.venv/bin/python - <<'PY'
import re
from pathlib import Path

from monitor.storage.db import schema_fingerprint

path = Path("alembic/versions/0001_initial.py")
text = path.read_text(encoding="utf-8")
rev = schema_fingerprint(text)
text = re.sub(r"Revision ID: \S+", f"Revision ID: {rev}", text, count=1)
text = re.sub(r'revision: str = "[^"]*"', f'revision: str = "{rev}"', text, count=1)
path.write_text(text, encoding="utf-8")
PY
rm -rf "$tmp"
echo "regenerated alembic/versions/0001_initial.py"
