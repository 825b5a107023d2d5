# The "it works on my machine" Dockerfile from a tutorial.
FROM python:latest

WORKDIR /app
COPY . .
RUN pip install -r requirements.txt

EXPOSE 8000
CMD uvicorn app.main:app --host 0.0.0.0 --port 8000
