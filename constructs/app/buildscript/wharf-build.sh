#!/usr/bin/env bash
# Wharf build script, run by the app's CodeBuild project (docs/build-metadata.md).
#   wharf-build.sh prepare   check the app config, log in to ECR, install pack if needed
#   wharf-build.sh build     build the image, push it, write .wharf/wharf-build.json
set -euo pipefail

: "${WHARF_PREFIX:?}" "${WHARF_APP:?}" "${WHARF_IMAGE_REPO:?}" "${CODEBUILD_BUILD_NUMBER:?}" "${CODEBUILD_BUILD_ID:?}"
here="$(cd "$(dirname "$0")" && pwd)"
meta="$here/wharf-meta.py"
out=".wharf"
commit="${CODEBUILD_RESOLVED_SOURCE_VERSION:-}"
if [ -z "$commit" ]; then commit="$(git rev-parse HEAD)"; fi
registry="${WHARF_IMAGE_REPO%%/*}"
pack_version="${WHARF_PACK_VERSION:-0.38.2}"

# dockerhub_login logs in to Docker Hub with the account's credentials
# (<user>:<token> in the SecureString $WHARF_DOCKERHUB_PARAMETER) so that
# base-image pulls do not count against the anonymous rate limit. Without the
# parameter the build pulls anonymously; any other error stops the build.
# The value never reaches the log.
dockerhub_login() {
  local name="${WHARF_DOCKERHUB_PARAMETER:-/$WHARF_PREFIX/account/dockerhub}" cred errf
  errf="$(mktemp)"
  if ! cred="$(aws ssm get-parameter --name "$name" --with-decryption --query Parameter.Value --output text 2>"$errf")"; then
    if grep -q ParameterNotFound "$errf"; then
      echo "wharf: no Docker Hub credentials at $name; pulling anonymously"
      rm -f "$errf"
      return 0
    fi
    echo "wharf: cannot read Docker Hub credentials at $name:" >&2
    cat "$errf" >&2
    rm -f "$errf"
    return 1
  fi
  rm -f "$errf"
  case "$cred" in
    ?*:?*) ;;
    *) echo "wharf: $name must hold <username>:<access token>" >&2; return 1 ;;
  esac
  printf '%s' "${cred#*:}" | docker login --username "${cred%%:*}" --password-stdin
}

prepare() {
  mkdir -p "$out"
  python3 "$meta" detect > "$out/build.env"
  # shellcheck disable=SC1091
  . "$out/build.env"
  echo "wharf: building $WHARF_APP at $commit with $WHARF_SYSTEM"
  aws ecr get-login-password --region "${AWS_REGION:?}" | docker login --username AWS --password-stdin "$registry"
  dockerhub_login
  if [ "$WHARF_SYSTEM" = buildpacks ] && ! command -v pack >/dev/null 2>&1; then
    url="https://github.com/buildpacks/pack/releases/download/v${pack_version}/pack-v${pack_version}-linux.tgz"
    curl -fsSL --retry 3 -o /tmp/pack.tgz "$url"
    sum="${WHARF_PACK_SHA256:-}"
    if [ -z "$sum" ]; then sum="$(curl -fsSL --retry 3 "$url.sha256" | cut -d' ' -f1)"; fi
    echo "$sum  /tmp/pack.tgz" | sha256sum -c -
    tar -C /usr/local/bin -xzf /tmp/pack.tgz pack
  fi
}

build() {
  # shellcheck disable=SC1091
  . "$out/build.env"
  local image="$WHARF_IMAGE_REPO:$commit" numbered="$WHARF_IMAGE_REPO:build-$CODEBUILD_BUILD_NUMBER" cnb=""
  if [ "$WHARF_SYSTEM" = dockerfile ]; then
    docker build --pull -f "$WHARF_DOCKERFILE" -t "$image" -t "$numbered" \
      --build-arg "WHARF_COMMIT=$commit" --build-arg "WHARF_BUILD_NUMBER=$CODEBUILD_BUILD_NUMBER" .
  else
    pack build "$WHARF_IMAGE_REPO:cnb-$CODEBUILD_BUILD_NUMBER" --builder "$WHARF_BUILDER" --trust-builder --pull-policy if-not-present
    cnb="$out/cnb-metadata.json"
    docker inspect --format '{{ index .Config.Labels "io.buildpacks.build.metadata" }}' "$WHARF_IMAGE_REPO:cnb-$CODEBUILD_BUILD_NUMBER" > "$cnb"
    # Run every command through the buildpack launcher, which sets up the
    # buildpacks' environment; the control plane only sets the command.
    printf 'FROM %s\nENTRYPOINT ["/cnb/lifecycle/launcher"]\nCMD []\n' "$WHARF_IMAGE_REPO:cnb-$CODEBUILD_BUILD_NUMBER" |
      docker build -t "$image" -t "$numbered" -
  fi
  docker push "$image"
  docker push "$numbered"
  local digest
  digest="$(docker inspect --format '{{ range .RepoDigests }}{{ println . }}{{ end }}' "$image" | grep -m1 "^$WHARF_IMAGE_REPO@sha256:")"
  python3 "$meta" generate --prefix "$WHARF_PREFIX" --app "$WHARF_APP" \
    --build-number "$CODEBUILD_BUILD_NUMBER" --build-id "$CODEBUILD_BUILD_ID" \
    --commit "$commit" --image "$digest" --cnb-metadata "$cnb" > "$out/wharf-build.json.tmp"
  mv "$out/wharf-build.json.tmp" "$out/wharf-build.json"
  cat "$out/wharf-build.json"
}

case "${1:-}" in
  prepare) prepare ;;
  build) build ;;
  *) echo "usage: $0 prepare|build" >&2; exit 64 ;;
esac
