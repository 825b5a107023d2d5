FROM python:3.12-slim

ARG PIP_INDEX_TOKEN
ENV DATABASE_URL=postgresql://items:items@db:5432/items \
    DATABASE_PASSWORD=items \
    LOG_LEVEL=info

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir \
      --extra-index-url "https://__token__:${PIP_INDEX_TOKEN}@pypi.internal.example/simple" \
      -r requirements.txt
COPY app/ ./app/

USER nobody
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
