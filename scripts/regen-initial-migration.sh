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
rm -rf "$tmp"
echo "regenerated alembic/versions/0001_initial.py"
