FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
# The context holds .git and a local virtualenv: both end up in the image.
COPY . .
RUN useradd -r app && chown -R app /app
USER app
CMD ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0"]
