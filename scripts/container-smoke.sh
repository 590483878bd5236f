#!/usr/bin/env bash
# Build the container image and run the offline demo inside it: the image must install
# cleanly, carry its config and migrations, and work end to end. Then a recreated container
# must send nothing twice (scripts/container-recreate.py), and the image size is reported.
# Uses ../shared/tools/local-base-image.sh when present (no registry reachable here).
set -euo pipefail
cd "$(dirname "$0")/.."
base_args=()
if [ -x ../shared/tools/local-base-image.sh ] || [ -f ../shared/tools/local-base-image.sh ]; then
  base_args=(--build-arg "BASE_IMAGE=$(bash ../shared/tools/local-base-image.sh)")
fi
docker build -q --network host "${base_args[@]}" -t monitor:smoke . >/dev/null
out=$(docker run --rm --network host --entrypoint monitor monitor:smoke demo --json)
python3 - "$out" <<'PY'
import json, sys
data = json.loads(sys.argv[1])
stories = data["alerted_stories"]
assert len(stories) == 1, f"expected one alerted story, got {len(stories)}"
assert len(stories[0]["sources"]) == 2, stories[0]["sources"]
print("container smoke test: 1 passed, 0 failed")
PY
.venv/bin/python scripts/container-recreate.py monitor:smoke
bytes=$(docker image inspect monitor:smoke --format '{{.Size}}')
echo "container image size: $(( bytes / 1000000 )) MB"
