# A local stand-in for python:3.12-slim, built from Debian packages when no registry is
# reachable. It is Debian's Python (3.11 on Debian 12, 3.13 on Debian 13), not the official
# image: named honestly. As in the official image, Python has its own prefix, /usr/local:
# a virtual environment there (`python -m venv /usr/local`) puts `python`, `python3`, `pip` and
# `pip3` in /usr/local/bin and pip's installs in /usr/local/lib/python3.X/site-packages, apart
# from Debian's python3-* packages (which pip could not upgrade: they have no RECORD file). pip
# installs there without PEP 668's complaint; Debian's EXTERNALLY-MANAGED marker is kept out
# by dpkg as well, so it stays absent after an `apt-get upgrade` of python3.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN echo 'path-exclude=/usr/lib/python3*/EXTERNALLY-MANAGED' > /etc/dpkg/dpkg.cfg.d/course-no-externally-managed \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && python3 -m venv /usr/local \
 && rm -f /usr/local/bin/activate* /usr/local/bin/Activate.ps1 \
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /root/.cache
ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1
CMD ["python3"]
