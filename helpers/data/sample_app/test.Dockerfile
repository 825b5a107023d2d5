# The integration-test image: the app's integration tests and pytest, nothing of the app itself.
# Build context: sample_python_app/. Run it on the app's network:
#   docker run --rm --network NET sample-app-tests --app-url http://app:8000
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
RUN pip install --no-cache-dir pytest==9.2.0
WORKDIR /tests
COPY tests/integration ./integration
ENTRYPOINT ["python", "-m", "pytest", "-p", "no:cacheprovider", "-v", "integration"]
