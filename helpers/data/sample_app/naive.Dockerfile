# Reference solution of Lab 1 (build basics): simple and correct, but big.
# The full base has gcc and libpq-dev, which psycopg2 needs to compile.
ARG BASE_IMAGE=python:3.12
FROM ${BASE_IMAGE}
WORKDIR /app
COPY . .
RUN pip install -r requirements-dev.txt
ENV PORT=8000
EXPOSE 8000
CMD ["python", "-m", "app"]
