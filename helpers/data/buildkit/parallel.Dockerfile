# Three independent stages (wheels, os-packages, checksums): BuildKit runs them at the same
# time; the final stage waits for all three. Small on purpose: it runs in every lesson.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS wheels
RUN pip install --no-cache-dir --target /deps requests==2.34.2 PyYAML==6.0.4

FROM ${BASE_IMAGE} AS os-packages
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
 && dpkg-query -W > /packages.txt

FROM ${BASE_IMAGE} AS checksums
RUN python3 -c "import hashlib; d=b'x'*4096; [d:=hashlib.sha256(d).digest()*128 for _ in range(150000)]; print(d[:8].hex())" > /checksum.txt

FROM ${BASE_IMAGE} AS runtime
# Only the installed packages come from the builder stage: no wheel is copied in and deleted later,
# which would leave it in a lower layer (lesson 10).
COPY --from=wheels /deps /opt/deps
ENV PYTHONPATH=/opt/deps
COPY --from=os-packages /packages.txt /opt/packages.txt
COPY --from=checksums /checksum.txt /opt/checksum.txt
ARG VERSION=1.0.0
RUN echo "$VERSION" > /opt/VERSION
CMD ["cat", "/opt/VERSION"]
