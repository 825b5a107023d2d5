#!/usr/bin/env bash
# Lab 4 (reference): publish the sample app's image under a version tag and a commit tag, then pull it by digest.
# The notebook (and the grader, with its own values) sets IMAGE, REGISTRY, REPOSITORY, REGISTRY_USER,
# REGISTRY_PASSWORD_FILE and GIT_SHA.
set -euo pipefail

VERSION=0.1.0

# Log in once: the password comes from a file on stdin, never on the command line.
docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin < "$REGISTRY_PASSWORD_FILE"

# One image, two names: the release version and the commit it was built from.
docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:$VERSION"
docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:sha-$GIT_SHA"
docker push "$REGISTRY/$REPOSITORY:$VERSION"
docker push "$REGISTRY/$REPOSITORY:sha-$GIT_SHA"

# The digest the registry gave the push (repo@sha256:...): what a deployment pins.
DIGEST=$(docker inspect --format '{{index .RepoDigests 0}}' "$REGISTRY/$REPOSITORY:$VERSION")
echo "pinned: $DIGEST"
docker pull "$DIGEST"
