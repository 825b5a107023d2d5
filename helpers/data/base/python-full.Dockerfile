# A local stand-in for the full python:3.12 image (compilers and headers included),
# built from Debian packages when no registry is reachable.
ARG SLIM_IMAGE
FROM ${SLIM_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential python3-dev libffi-dev libssl-dev libpq-dev git curl \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
