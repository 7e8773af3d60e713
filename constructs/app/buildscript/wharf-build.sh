#!/usr/bin/env bash
# Wharf build script, run by the app's CodeBuild project (docs/build-metadata.md).
#   wharf-build.sh prepare   check the source ref and the app config, log in to ECR, install pack if needed
#   wharf-build.sh image     build the image (logged in to Docker Hub only while pulling)
#   wharf-build.sh test      run the app's tests in the built image
#   wharf-build.sh publish   push the image, write .wharf/wharf-build.json
#   wharf-build.sh build     image, test and publish in one go
# The buildspec runs image, test and publish as separate commands so that a
# failed step is named in the build's phase context (the control plane
# reports failed tests as such).
set -euo pipefail

: "${WHARF_PREFIX:?}" "${WHARF_APP:?}" "${WHARF_IMAGE_REPO:?}" "${CODEBUILD_BUILD_NUMBER:?}" "${CODEBUILD_BUILD_ID:?}"
here="$(cd "$(dirname "$0")" && pwd)"
meta="$here/wharf-meta.py"
out=".wharf"
commit="${CODEBUILD_RESOLVED_SOURCE_VERSION:-}"
if [ -z "$commit" ]; then commit="$(git rev-parse HEAD)"; fi
registry="${WHARF_IMAGE_REPO%%/*}"
branch="${WHARF_BRANCH:-main}"
# pack: the version and its SHA-256 are pinned in Wharf's code
# (app.PackVersion, app.PackSHA256) and come in as project variables; the
# defaults here are the same pair. A checksum is never fetched from where
# the binary comes from.
pack_version="${WHARF_PACK_VERSION:-0.38.2}"
pack_sha256="${WHARF_PACK_SHA256:-}"
if [ -z "$pack_sha256" ] && [ "$pack_version" = 0.38.2 ]; then
  pack_sha256=a00765572b7d464b1691d64fd264d9a807b066a7e7805db32b9918d9be16e228
fi
bin_dir="${WHARF_BIN_DIR:-/usr/local/bin}"
image="$WHARF_IMAGE_REPO:$commit"
numbered="$WHARF_IMAGE_REPO:build-$CODEBUILD_BUILD_NUMBER"
cnb_image="$WHARF_IMAGE_REPO:cnb-$CODEBUILD_BUILD_NUMBER"

say() { echo "wharf: $*"; }
die() { echo "wharf: $*" >&2; exit 1; }

# check_ref refuses a build whose source is not the app's branch: a webhook
# build's head ref must be refs/heads/<branch> exactly, a manual build must
# not ask for another branch, tag or commit (issue 9, item 4). The branch is
# also recorded in wharf-build.json for the control plane.
check_ref() {
  local want="refs/heads/$branch" head="${CODEBUILD_WEBHOOK_HEAD_REF:-}" version="${CODEBUILD_SOURCE_VERSION:-}"
  if [ -n "$head" ]; then
    [ "$head" = "$want" ] || die "the pushed ref $head is not the app's branch $branch ($want); refusing to build it"
  elif [ -n "$version" ] && [ "$version" != "$branch" ] && [ "$version" != "$want" ]; then
    die "the requested source version $version is not the app's branch $branch; refusing to build it"
  fi
}

# dockerhub_login logs in to Docker Hub with the account's credentials
# (<user>:<token> in the SecureString $WHARF_DOCKERHUB_PARAMETER) so that
# base-image pulls do not count against the anonymous rate limit. Without the
# parameter the build pulls anonymously; any other error stops the build.
# The value never reaches the log. The login lasts only while the image step
# pulls (dockerhub_logout), so no code of the app runs while it holds.
dockerhub_login() {
  local name="${WHARF_DOCKERHUB_PARAMETER:-/$WHARF_PREFIX/account/dockerhub}" cred errf
  errf="$(mktemp)"
  if ! cred="$(aws ssm get-parameter --name "$name" --with-decryption --query Parameter.Value --output text 2>"$errf")"; then
    if grep -q ParameterNotFound "$errf"; then
      say "no Docker Hub credentials at $name; pulling anonymously"
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

dockerhub_logout() { docker logout >/dev/null 2>&1 || true; }

# resolve_builder decides the buildpacks builder and whether pack may trust
# it. Only builders the platform pins by digest (WHARF_TRUSTED_BUILDERS,
# space-separated <name>@sha256:<digest>) are trusted, and then used by that
# digest; any other builder, whatever the repository calls it, runs
# untrusted: pack runs each lifecycle phase in its own container and only
# the phases that need them get the registry credentials and the Docker
# daemon (issue 9, item 5).
resolve_builder() {
  local want="$1" t
  for t in ${WHARF_TRUSTED_BUILDERS:-}; do
    if [ "$want" = "$t" ] || [ "$want" = "${t%@sha256:*}" ]; then
      echo "WHARF_BUILDER_REF=$t"
      echo "WHARF_BUILDER_TRUSTED=1"
      return
    fi
  done
  echo "WHARF_BUILDER_REF=$want"
  echo "WHARF_BUILDER_TRUSTED=0"
}

install_pack() {
  command -v pack >/dev/null 2>&1 && return 0
  [ -n "$pack_sha256" ] || die "pack $pack_version has no pinned checksum (set WHARF_PACK_SHA256 with WHARF_PACK_VERSION)"
  local url="https://github.com/buildpacks/pack/releases/download/v${pack_version}/pack-v${pack_version}-linux.tgz" tgz
  tgz="$(mktemp)"
  curl -fsSL --retry 3 -o "$tgz" "$url"
  if ! echo "$pack_sha256  $tgz" | sha256sum -c --status -; then
    rm -f "$tgz"
    die "pack $pack_version download does not match the pinned SHA-256 $pack_sha256; refusing to install it"
  fi
  tar -C "$bin_dir" -xzf "$tgz" pack
  rm -f "$tgz"
}

prepare() {
  check_ref
  mkdir -p "$out"
  python3 "$meta" detect --prefix "$WHARF_PREFIX" --app "$WHARF_APP" --max-schedule-name "${WHARF_MAX_SCHEDULE_NAME:-0}" > "$out/build.env"
  # shellcheck disable=SC1091
  . "$out/build.env"
  if [ "$WHARF_SYSTEM" = buildpacks ]; then
    resolve_builder "$WHARF_BUILDER" >> "$out/build.env"
  fi
  say "building $WHARF_APP at $commit (branch $branch) with $WHARF_SYSTEM"
  aws ecr get-login-password --region "${AWS_REGION:?}" | docker login --username AWS --password-stdin "$registry"
  if [ "$WHARF_SYSTEM" = buildpacks ]; then install_pack; fi
}

image() {
  # shellcheck disable=SC1091
  . "$out/build.env"
  dockerhub_login
  if [ "$WHARF_SYSTEM" = dockerfile ]; then
    if ! docker build --pull -f "$WHARF_DOCKERFILE" -t "$image" -t "$numbered" \
      --build-arg "WHARF_COMMIT=$commit" --build-arg "WHARF_BUILD_NUMBER=$CODEBUILD_BUILD_NUMBER" .; then
      dockerhub_logout
      return 1
    fi
    dockerhub_logout
  else
    # The builder is pulled while logged in; pack itself, which runs the
    # repository's buildpack code, runs after the logout.
    docker pull "$WHARF_BUILDER_REF" || { dockerhub_logout; return 1; }
    dockerhub_logout
    local trust=()
    if [ "$WHARF_BUILDER_TRUSTED" = 1 ]; then
      trust=(--trust-builder)
    else
      say "builder $WHARF_BUILDER_REF is not pinned by the platform (trustedBuilders); it runs untrusted"
    fi
    pack build "$cnb_image" --builder "$WHARF_BUILDER_REF" "${trust[@]}" --pull-policy if-not-present
    docker inspect --format '{{ index .Config.Labels "io.buildpacks.build.metadata" }}' "$cnb_image" > "$out/cnb-metadata.json"
    # Run every command through the buildpack launcher, which sets up the
    # buildpacks' environment; the control plane only sets the command.
    printf 'FROM %s\nENTRYPOINT ["/cnb/lifecycle/launcher"]\nCMD []\n' "$cnb_image" |
      docker build -t "$image" -t "$numbered" -
  fi
  touch "$out/image.ok"
}

run_tests() {
  [ -f "$out/image.ok" ] || die "no image was built; run the image step first"
  say "no test command (wharf.json test, or app.json environments.test.scripts.test): not running tests"
  touch "$out/tests.ok"
}

publish() {
  # shellcheck disable=SC1091
  . "$out/build.env"
  [ -f "$out/tests.ok" ] || die "the tests did not pass; not pushing"
  docker push "$image"
  docker push "$numbered"
  local digest cnb=""
  if [ "$WHARF_SYSTEM" = buildpacks ]; then cnb="$out/cnb-metadata.json"; fi
  digest="$(docker inspect --format '{{ range .RepoDigests }}{{ println . }}{{ end }}' "$image" | grep -m1 "^$WHARF_IMAGE_REPO@sha256:")"
  python3 "$meta" generate --prefix "$WHARF_PREFIX" --app "$WHARF_APP" --max-schedule-name "${WHARF_MAX_SCHEDULE_NAME:-0}" \
    --build-number "$CODEBUILD_BUILD_NUMBER" --build-id "$CODEBUILD_BUILD_ID" \
    --commit "$commit" --branch "$branch" --image "$digest" --cnb-metadata "$cnb" > "$out/wharf-build.json.tmp"
  mv "$out/wharf-build.json.tmp" "$out/wharf-build.json"
  cat "$out/wharf-build.json"
}

case "${1:-}" in
  prepare) prepare ;;
  image) image ;;
  test) run_tests ;;
  publish) publish ;;
  build) image; run_tests; publish ;;
  *) echo "usage: $0 prepare|image|test|publish|build" >&2; exit 64 ;;
esac
