ARG PY=3.12
FROM python:${PY}

MAINTAINER ops@example.com
ADD . /srv/items
RUN cd /srv/items && pip install -r requirements.txt
RUN apt-get update
RUN apt-get install -y build-essential vim
RUN curl -sSL https://install.example.com/agent.sh | sh
ENV SECRET_KEY=dev-secret-key-change-me
USER root
EXPOSE 8000
ENTRYPOINT python /srv/items/app/main.py
