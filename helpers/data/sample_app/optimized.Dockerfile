# Reference solution of Lab 2 (improve the Dockerfile).
# Stage 1 compiles the dependencies on the full base (gcc, libpq-dev) into a virtualenv;
# stage 2 runs on the slim base with only the runtime library (libpq5) and the virtualenv.
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim

FROM ${BUILDER_IMAGE} AS builder
# A virtualenv without pip: the builder's pip installs into it, so pip stays out of the runtime.
RUN python -m venv --without-pip /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip --python /opt/venv/bin/python install -r /tmp/requirements.txt

FROM ${BASE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && useradd --create-home --uid 10001 app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PORT=8000 DATA_DIR=/data PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY app ./app
RUN mkdir -p /data && chown app:app /data
USER app
EXPOSE 8000
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health', timeout=2)"]
CMD ["python", "-m", "app"]
