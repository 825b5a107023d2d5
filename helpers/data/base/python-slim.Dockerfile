# A local stand-in for python:3.12-slim, built from Debian packages when no registry is
# reachable. It is Debian's Python (3.11 on Debian 12, 3.13 on Debian 13), not the official
# image: named honestly. As in the official image, `python`, `python3`, `pip` and `pip3` are in
# /usr/local/bin and pip installs system-wide: dpkg is told never to install Debian's PEP 668
# EXTERNALLY-MANAGED marker, so it stays absent after an `apt-get upgrade` of python3 too.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN echo 'path-exclude=/usr/lib/python3*/EXTERNALLY-MANAGED' > /etc/dpkg/dpkg.cfg.d/course-no-externally-managed \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv \
 && for name in python python3; do ln -sf /usr/bin/python3 /usr/local/bin/$name; done \
 && for name in pip pip3; do ln -sf /usr/bin/pip3 /usr/local/bin/$name; done \
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1
CMD ["python3"]
