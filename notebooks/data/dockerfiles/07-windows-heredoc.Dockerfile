# syntax=docker/dockerfile:1.4
# Written on Windows, lower-case, with a heredoc.
from python:3.12-slim
workdir /app
run <<EOF
apt-get update
apt-get install -y curl
EOF
copy requirements.txt .
run pip install -r requirements.txt
copy app/ app/
user 1000
cmd ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0"]
