FROM python:3.12-slim

# psycopg2 is built from source: it needs a compiler and the libpq headers.
RUN apt-get update && \
    apt-get install -y gcc libpq-dev

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY app/ ./app/

RUN useradd -r app
USER app
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
