#!/usr/bin/env bash
# Lab 4: publish the sample app's image. Run it from the notebook with `!bash publish.sh`.
# The notebook sets these for you (the grader sets its own values when it replays your script):
#   IMAGE                   the local image to publish (sample-api:latest)
#   REGISTRY                the registry's address (127.0.0.1:5000)
#   REPOSITORY              your repository in it (course/lab4-xxxxxx)
#   REGISTRY_USER           who you log in as
#   REGISTRY_PASSWORD_FILE  a file holding the password (never copy the password into this script)
#   GIT_SHA                 the commit the image was built from (7 hex digits)
# The grader reads only `docker login|tag|push|pull` lines and `NAME=value` lines; it runs nothing else.
set -euo pipefail

# TODO: choose the version you release (MAJOR.MINOR.PATCH).
VERSION=

# TODO: log in to $REGISTRY as $REGISTRY_USER, the password read from $REGISTRY_PASSWORD_FILE on stdin.

# TODO: tag $IMAGE as $REGISTRY/$REPOSITORY:$VERSION, and again with a tag that names the commit ($GIT_SHA).

# TODO: push both tags.

# TODO: capture the digest the push gave (docker inspect, RepoDigests) and pull the image by that digest.
