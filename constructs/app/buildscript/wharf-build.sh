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
# The layer caches live in the app's own repository under tags a lifecycle
# rule never expires (docs/build-metadata.md).
docker_cache="$WHARF_IMAGE_REPO:cache-docker"
cnb_cache="$WHARF_IMAGE_REPO:cache-cnb"

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

# load_build_config reads the config vars the platform lets this build
# see (WHARF_BUILD_CONFIG: names; the build role may read exactly those
# parameters) into a file of export lines only this user can read. The
# values are used in subshells (with_build_config) of the image build only:
# never printed, never passed as arguments, never given to the tests.
build_config_file=""
load_build_config() {
  [ -n "${WHARF_BUILD_CONFIG:-}" ] || return 0
  local names=() n prefix="/$WHARF_PREFIX/apps/$WHARF_APP/config/"
  for n in $WHARF_BUILD_CONFIG; do names+=("$prefix$n"); done
  build_config_file="$(mktemp)"
  chmod 600 "$build_config_file"
  if ! aws ssm get-parameters --names "${names[@]}" --with-decryption --output json |
    python3 "$meta" build-config --prefix "$prefix" > "$build_config_file"; then
    rm -f "$build_config_file"
    die "cannot read the build config ($WHARF_BUILD_CONFIG)"
  fi
  say "build config available to the image build: $WHARF_BUILD_CONFIG (values not shown)"
}

with_build_config() {
  (
    # shellcheck disable=SC1090
    if [ -n "$build_config_file" ]; then . "$build_config_file"; fi
    "$@"
  )
}

forget_build_config() {
  if [ -n "$build_config_file" ]; then rm -f "$build_config_file"; fi
}

# secret_args are the BuildKit secret flags of the build config: each var
# is mounted by id from the environment (RUN --mount=type=secret,id=NAME),
# never a --build-arg, so no value lands in a layer or the image history.
secret_args() {
  local n
  for n in ${WHARF_BUILD_CONFIG:-}; do printf -- '--secret\nid=%s,env=%s\n' "$n" "$n"; done
}

# cache_readable says whether a cache tag can be read; a build without it
# builds cold, and says so.
cache_readable() {
  if docker buildx imagetools inspect "$1" >/dev/null 2>&1; then
    say "using the layer cache $1"
    return 0
  fi
  say "no readable layer cache at $1 (first build, expired or unreadable); building cold"
  return 1
}

use_builder() {
  # The docker-container driver exports registry caches; the default
  # driver cannot.
  docker buildx inspect wharf >/dev/null 2>&1 || docker buildx create --name wharf --driver docker-container >/dev/null
  docker buildx use wharf
}

dockerfile_build() {
  local extra=("$@") secrets=()
  mapfile -t secrets < <(secret_args)
  with_build_config docker buildx build "${extra[@]}" -f "$WHARF_DOCKERFILE" -t "$image" -t "$numbered" \
    --build-arg "WHARF_COMMIT=$commit" --build-arg "WHARF_BUILD_NUMBER=$CODEBUILD_BUILD_NUMBER" \
    "${secrets[@]}" .
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
    use_builder
    local from=()
    if cache_readable "$docker_cache"; then from=(--cache-from "type=registry,ref=$docker_cache"); fi
    load_build_config
    if ! dockerfile_build --pull --load "${from[@]}" || ! pull_services; then
      forget_build_config
      dockerhub_logout
      return 1
    fi
    forget_build_config
    dockerhub_logout
  else
    # The builder is pulled while logged in; pack itself, which runs the
    # repository's buildpack code, runs after the logout.
    if ! docker pull "$WHARF_BUILDER_REF" || ! pull_services; then dockerhub_logout; return 1; fi
    dockerhub_logout
    local trust=() cache=(--cache-image "$cnb_cache")
    if [ "$WHARF_BUILDER_TRUSTED" = 1 ]; then
      trust=(--trust-builder)
    else
      say "builder $WHARF_BUILDER_REF is not pinned by the platform (trustedBuilders); it runs untrusted"
    fi
    cache_readable "$cnb_cache" || cache+=(--clear-cache)
    local envs=() n
    for n in ${WHARF_BUILD_CONFIG:-}; do envs+=(--env "$n"); done
    load_build_config
    # pack keeps a cache image only when it publishes (--publish), so the
    # candidate goes to the registry as cnb-<n>, a tag nothing deploys; it
    # becomes <commit> and build-<n> only after the tests pass.
    if ! with_build_config pack build "$cnb_image" --builder "$WHARF_BUILDER_REF" "${trust[@]}" --pull-policy if-not-present \
      --publish "${cache[@]}" "${envs[@]}"; then
      forget_build_config
      return 1
    fi
    forget_build_config
    docker pull "$cnb_image"
    docker inspect --format '{{ index .Config.Labels "io.buildpacks.build.metadata" }}' "$cnb_image" > "$out/cnb-metadata.json"
    # Run every command through the buildpack launcher, which sets up the
    # buildpacks' environment; the control plane only sets the command.
    printf 'FROM %s\nENTRYPOINT ["/cnb/lifecycle/launcher"]\nCMD []\n' "$cnb_image" |
      docker build -t "$image" -t "$numbered" -
  fi
  touch "$out/image.ok"
}

# pull_services pulls the test services' images while the image step is
# logged in to Docker Hub; the test step runs them with --pull never.
pull_services() {
  local svc
  for svc in ${WHARF_TEST_SERVICES:-}; do
    docker pull "$(service_image "$svc")"
  done
}

service_image() {
  local name="${1%%:*}" version="${1#*:}"
  case "$name" in
    postgres) echo "postgres:$version" ;;
    redis) echo "redis:$version" ;;
    *) die "unknown test service $name" ;;
  esac
}

# The test network and containers of this build; stop_services removes
# them whatever happened (trap).
test_net="wharf-test-$CODEBUILD_BUILD_NUMBER"
stop_services() {
  local svc
  for svc in ${WHARF_TEST_SERVICES:-}; do
    docker rm -f "$test_net-${svc%%:*}" >/dev/null 2>&1 || true
  done
  docker rm -f "$test_net-app" >/dev/null 2>&1 || true
  docker network rm "$test_net" >/dev/null 2>&1 || true
}

# wait_ready waits up to 60 s for a service to accept connections.
wait_ready() {
  local name="$1" container="$test_net-$1" i probe
  case "$name" in
    postgres) probe=(pg_isready -U postgres -h 127.0.0.1 -q) ;;
    redis) probe=(redis-cli ping) ;;
  esac
  for i in $(seq 1 60); do
    if docker exec "$container" "${probe[@]}" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "test service $name did not become ready in 60 s"
}

# run_tests runs the app's test command in the built image, with the
# declared services as containers beside it on a network of their own,
# DATABASE_URL / REDIS_URL and CI=true set. The container gets no Docker
# socket, no Docker config and no credentials (the Docker Hub login ended
# with the image step). A failing test fails this step, and with it the
# build: publish does not run.
run_tests() {
  # shellcheck disable=SC1091
  . "$out/build.env"
  [ -f "$out/image.ok" ] || die "no image was built; run the image step first"
  rm -f "$out/tests.ok"
  if [ -z "${WHARF_TEST_COMMAND:-}" ]; then
    say "no test command (wharf.json \"test\", or app.json environments.test.scripts.test): building without running tests"
    echo skipped > "$out/tests.ok"
    return 0
  fi
  say "running the tests from $WHARF_TEST_SOURCE in the built image: $WHARF_TEST_COMMAND"
  trap stop_services EXIT
  docker network create "$test_net" >/dev/null
  local env=(-e CI=true) svc name
  for svc in ${WHARF_TEST_SERVICES:-}; do
    name="${svc%%:*}"
    say "starting test service $(service_image "$svc")"
    case "$name" in
      postgres)
        docker run -d --pull never --name "$test_net-postgres" --network "$test_net" --network-alias postgres \
          -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=test "$(service_image "$svc")" >/dev/null
        env+=(-e "DATABASE_URL=postgres://postgres:postgres@postgres:5432/test?sslmode=disable") ;;
      redis)
        docker run -d --pull never --name "$test_net-redis" --network "$test_net" --network-alias redis "$(service_image "$svc")" >/dev/null
        env+=(-e "REDIS_URL=redis://redis:6379/0") ;;
    esac
    wait_ready "$name"
  done
  local status=0
  docker run --pull never --name "$test_net-app" --network "$test_net" "${env[@]}" --env-file "$out/test.env" \
    "$image" /bin/sh -c "$WHARF_TEST_COMMAND" || status=$?
  if [ -n "${WHARF_TEST_REPORT:-}" ]; then
    local path="$WHARF_TEST_REPORT" workdir
    if [ "${path#/}" = "$path" ]; then
      workdir="$(docker inspect --format '{{ .Config.WorkingDir }}' "$image")"
      path="${workdir:-/}/$path"
    fi
    mkdir -p "$out/reports"
    if docker cp "$test_net-app:$path" "$out/reports/" >/dev/null 2>&1; then
      say "test report $path goes to the build's report group"
    else
      say "the test command wrote no report at $path"
    fi
  fi
  if [ "$status" -ne 0 ]; then
    die "the tests failed (exit status $status); nothing is pushed or deployed. Test output is above in this build log."
  fi
  say "the tests passed"
  echo passed > "$out/tests.ok"
}

publish() {
  # shellcheck disable=SC1091
  . "$out/build.env"
  [ -f "$out/tests.ok" ] || die "the tests did not pass; not pushing"
  docker push "$image"
  docker push "$numbered"
  if [ "$WHARF_SYSTEM" = dockerfile ]; then
    # The layer cache is written only now, after the tests passed: the
    # same build again, every step a hit in the builder, exported to the
    # registry (ECR takes cache manifests as image manifests with OCI
    # media types). A failed export does not fail the build.
    load_build_config
    if ! dockerfile_build --output type=cacheonly \
      --cache-to "type=registry,ref=$docker_cache,mode=max,image-manifest=true,oci-mediatypes=true"; then
      say "could not write the layer cache $docker_cache; the next build starts cold"
    fi
    forget_build_config
  fi
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
