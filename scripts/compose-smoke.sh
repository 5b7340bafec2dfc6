#!/usr/bin/env bash
# `npm run test:compose`: the README's first command, `docker compose up --build`, run for real.
#
# Builds the image, brings the stack of docker-compose.yml up on a project of its own, waits for
# the healthchecks, then through the real `withpi` SDK (scripts/compose-smoke.js): a job to DONE
# with exactly N distinct inputs, its data and messages streams, the cancel of a running job;
# scales the workers to 3 and, in the middle of a larger job, SIGKILLs the worker running it and
# restarts Redis: the job must still end DONE with exactly N distinct inputs, losing none (Redis's
# AOF volume keeps them). Also checks bull-board (and the web console, when the API serves one),
# that the image has every workspace and runs as a non-root user, and reports the image's size.
# Ends with `down -v` on its own project whatever happens; other stacks are never touched.
#
# Needs a Docker engine that answers, or ../shared/docker-local (a real engine on the CI machines,
# with base images made locally since no image registry is reachable there), which it starts and
# builds with. `docker compose` (v2) is used when present, else `docker-compose` (v1).
#
# Environment: DOCKER (client, default docker), DOCKER_LOCAL (default ../shared/docker-local),
# COMPOSE_SMOKE_IMAGE (tag built and kept for the build cache, default datagen:compose-smoke),
# COMPOSE_SMOKE_WAIT (seconds each wait may take, default 180).
# Exit status: 0 passed, 1 a check failed, 2 no engine to run on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DOCKER="${DOCKER:-docker}"
DOCKER_LOCAL="${DOCKER_LOCAL:-$ROOT/../shared/docker-local}"
IMAGE="${COMPOSE_SMOKE_IMAGE:-datagen:compose-smoke}"
WAIT="${COMPOSE_SMOKE_WAIT:-180}"
PROJECT="datagen-smoke-$$" # unique per run: `down -v` removes this run's containers and volume only
BIG_N=400                  # the job that lives through a killed worker and a Redis restart
FAULT_AT=150               # ... once it holds this many inputs

started_at=$SECONDS
log() { printf 'compose smoke: %s\n' "$*"; }
die() { printf 'compose smoke: FAILED: %s\n' "$*" >&2; exit 1; }

TMP="$(mktemp -d)"
stack=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$stack" = 1 ]; then
    log "docker-compose down -v (project $PROJECT)"
    timeout 180 "${DC[@]}" down -v --remove-orphans >"$TMP/down.log" 2>&1 ||
      { printf 'compose smoke: down -v failed:\n' >&2; tail -n 20 "$TMP/down.log" >&2; rc=1; }
    local mine="label=com.docker.compose.project=$PROJECT" left
    left="$("$DOCKER" ps -aq --filter "$mine"; "$DOCKER" volume ls -q --filter "$mine"; "$DOCKER" network ls -q --filter "$mine")"
    if [ -n "$left" ]; then
      printf 'compose smoke: left behind by project %s: %s\n' "$PROJECT" "$(echo "$left" | tr '\n' ' ')" >&2
      rc=1
    else
      log "down -v done: no container, volume or network of project $PROJECT is left"
    fi
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- engine ---
if [ -x "$DOCKER_LOCAL" ]; then
  log "starting the engine and base images: $DOCKER_LOCAL up"
  timeout 900 "$DOCKER_LOCAL" up || die "$DOCKER_LOCAL up did not start an engine"
fi
if ! timeout 30 "$DOCKER" info >/dev/null 2>&1; then
  log "no Docker engine answers ($DOCKER info), and there is no $DOCKER_LOCAL to start one"
  exit 2
fi
if timeout 30 "$DOCKER" compose version >/dev/null 2>&1; then
  COMPOSE=("$DOCKER" compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  die "neither \`docker compose\` nor docker-compose is installed"
fi
DC=("${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/docker-compose.yml") # this run's project only
node -e "require.resolve('withpi')" 2>/dev/null || die "the withpi SDK is not installed here: run npm ci first"

# Last lines of the services' logs, after a failure.
logs() {
  for svc in "$@"; do
    printf -- '--- last log lines of %s ---\n' "$svc" >&2
    timeout 60 "${DC[@]}" logs --no-color --tail=30 "$svc" >&2 || true
  done
}
fail() { # message service...
  local message=$1; shift
  printf 'compose smoke: FAILED: %s\n' "$message" >&2
  logs "$@"
  exit 1
}

# The stack's settings for this run: its own image tag and a free loopback port; an API key
# and bull-board credentials of its own; the offline generator, held to 240 calls a minute by
# the shared rate limiter (4 calls a second, bursts of 40), so a job of a few hundred inputs
# runs a minute or so: long enough to be cancelled, or hit by faults, while it runs.
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
api_key="compose-smoke-$RANDOM$RANDOM"
export DATAGEN_IMAGE="$IMAGE" API_PORT="127.0.0.1:$port"
export NODE_ENV=development API_KEYS="$api_key"
export ADMIN_USER=smoke ADMIN_PASSWORD="smoke-$RANDOM$RANDOM"
export LLM_PROVIDER=offline ANTHROPIC_API_KEY='' OPENAI_API_KEY='' OPENAI_BASE_URL=''
export LLM_REQUESTS_PER_MINUTE=240 LLM_TOKENS_PER_MINUTE=0
export PI_CLIENT_BASE_URL="http://127.0.0.1:$port/v1" WITHPI_API_KEY="$api_key"
export SMOKE_WAIT_SECONDS="$WAIT"
base="http://127.0.0.1:$port"

"${DC[@]}" config -q || die "docker-compose.yml does not validate (${COMPOSE[*]} config -q)"

# ----------------------------------------------------------------- image ---
build_started=$SECONDS
log "building $IMAGE (output: only on failure)"
if [ -x "$DOCKER_LOCAL" ]; then
  build=("$DOCKER_LOCAL" build "$IMAGE") # with the host's network and CA bundle
else
  build=("$DOCKER" build -t "$IMAGE" .)
fi
if ! timeout 1200 "${build[@]}" >"$TMP/build.log" 2>&1; then
  tail -n 40 "$TMP/build.log" >&2
  die "the image did not build (${build[*]}; last lines above)"
fi
build_seconds=$((SECONDS - build_started))
size="$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")"
user="$("$DOCKER" image inspect -f '{{.Config.User}}' "$IMAGE")"
log "image $IMAGE built in ${build_seconds} s; size $((size / 1000000)) MB ($size bytes); runs as user '${user}'"
case "$user" in '' | root | 0 | 0:*) die "the image runs as root (Config.User '$user'); it must end with USER node" ;; esac

# Every workspace npm knows is in the image with its package.json (else npm ci there fails or a
# require does), with its dist when it has a build; and every Lua script a package's src holds is
# in its dist, where the compiled code loads it from.
npm query .workspace >"$TMP/workspaces.json" 2>"$TMP/npm-query.log" || { cat "$TMP/npm-query.log" >&2; die "npm query .workspace failed"; }
count="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).length)' "$TMP/workspaces.json")"
[ "$count" -gt 0 ] || die "npm query .workspace found no workspace (is node_modules installed? run npm ci)"
# shellcheck disable=SC2016 # ${...} below is JavaScript's, not the shell's
expected="$(node -e '
  const ws = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = [];
  for (const w of ws) {
    want.push(`${w.location}/package.json`);
    if (w.scripts && w.scripts.build) want.push(`${w.location}/dist`);
  }
  console.log(want.join("\n"));
' "$TMP/workspaces.json")
$(find packages apps -path '*/node_modules' -prune -o -path '*/src/*' -name '*.lua' -print | sed 's#/src/#/dist/#')"
missing="$("$DOCKER" run --rm --network none "$IMAGE" node -e '
  const fs = require("fs");
  const gone = process.argv[1].split("\n").filter((p) => p !== "" && !fs.existsSync(p));
  console.log(gone.join(" "));
' "$expected")" || die "could not look inside $IMAGE"
if [ -n "$missing" ]; then
  die "the image lacks $missing (a workspace folder the Dockerfile does not copy, or a build output it drops)"
fi
log "image holds all $count workspaces, their dist and $(grep -c '\.lua$' <<<"$expected") Lua scripts"

# ----------------------------------------------------------------- stack ---
wait_healthy() { # service count
  local svc=$1 want=$2 deadline=$((SECONDS + WAIT)) healthy states id s
  while :; do
    healthy=0 states=''
    for id in $("${DC[@]}" ps -q "$svc" 2>/dev/null); do
      s="$("$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo gone)"
      states="$states $s"
      if [ "$s" = healthy ]; then healthy=$((healthy + 1)); fi
    done
    if [ "$healthy" -ge "$want" ]; then return 0; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "$want $svc container(s) were not healthy within $WAIT s (states:${states:- none})" "$svc"
    fi
    sleep 2
  done
}
http_status() { # url [user:password]
  # shellcheck disable=SC2016 # JavaScript's template literals
  node -e '
    const [url, auth] = process.argv.slice(1);
    const headers = auth ? { authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {};
    fetch(url, { headers, signal: AbortSignal.timeout(15000) }).then((r) => console.log(r.status), (e) => console.log(`no answer (${e.message})`));
  ' "$@"
}
sdk() { # step args...: the SDK driver, bounded; its failure names what did not happen
  timeout $((WAIT * 6)) node "$ROOT/scripts/compose-smoke.js" "$@" || fail "the SDK step \"$*\" (message above)" api worker
}

stack_started=$SECONDS
stack=1 # from here on the trap takes the stack down
log "up: redis, api (on $base), worker (project $PROJECT)"
timeout 300 "${DC[@]}" up -d --no-build >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log" >&2; fail "compose up -d did not start the stack" redis api worker; }
wait_healthy redis 1
wait_healthy api 1
wait_healthy worker 1
log "healthy: redis, api, worker ($((SECONDS - stack_started)) s after up)"

uid="$(timeout 60 "${DC[@]}" exec -T api id -u | tr -d '\r')" || fail "compose exec api id -u did not run" api
if [ "$uid" = 0 ]; then fail "the api container runs as root (uid 0)" api; fi
log "the api container runs as uid $uid, not root"

code="$(http_status "$base/admin/queues")"
[ "$code" = 401 ] || fail "bull-board at /admin/queues answered $code without credentials, not 401" api
code="$(http_status "$base/admin/queues" "$ADMIN_USER:$ADMIN_PASSWORD")"
[ "$code" = 200 ] || fail "bull-board at /admin/queues answered $code with ADMIN_USER/ADMIN_PASSWORD, not 200" api
log "bull-board answers at /admin/queues (401 without credentials, 200 with)"
code="$(http_status "$base/console")"
case "$code" in
  200) log "the web console answers at /console" ;;
  404) log "note: no web console at /console (404): its check is skipped until the API serves one" ;;
  *) fail "the web console at /console answered $code, not 200 (or 404 while there is none)" api ;;
esac

sdk basic

# --------------------------------------------------- scale, kill, restart ---
log "scaling the workers to 3"
timeout 300 "${DC[@]}" up -d --no-build --scale worker=3 >"$TMP/scale.log" 2>&1 || { cat "$TMP/scale.log" >&2; fail "compose up --scale worker=3 failed" worker; }
wait_healthy worker 3
log "3 workers healthy"

faults_started=$SECONDS
job="$(timeout "$WAIT" node "$ROOT/scripts/compose-smoke.js" start "$BIG_N")" || fail "could not start the job of $BIG_N inputs" api
sdk progress "$job" "$FAULT_AT" "$TMP/before.json"
victim=''
for id in $("${DC[@]}" ps -q worker); do
  if "$DOCKER" logs "$id" 2>&1 | grep -F "\"jobId\":\"$job\"" | grep -qF '"msg":"job started"'; then victim=$id; fi
done
[ -n "$victim" ] || fail "no worker container logged \"job started\" for job $job" worker
log "SIGKILL to worker container ${victim:0:12}, which runs job $job"
timeout 60 "$DOCKER" kill -s KILL "$victim" >/dev/null || fail "docker kill -s KILL $victim failed" worker
log "restarting redis (its AOF volume keeps the data)"
timeout 120 "${DC[@]}" restart redis >"$TMP/restart.log" 2>&1 || { cat "$TMP/restart.log" >&2; fail "compose restart redis failed" redis; }
wait_healthy redis 1
faults_at=$SECONDS
sdk finish "$job" "$BIG_N" "$TMP/before.json"
victim_state="$("$DOCKER" inspect -f '{{.State.Status}} (exit {{.State.ExitCode}})' "$victim" 2>/dev/null || echo gone)"
takeovers='' # runs of the job that started from what an earlier run stored
for id in $("${DC[@]}" ps -q worker); do
  for at in $("$DOCKER" logs "$id" 2>&1 | grep -F "\"jobId\":\"$job\"" | grep -F '"msg":"job started"' | sed -nE 's/.*"resumedAt":([0-9]+).*/\1/p' || true); do
    if [ "$at" -gt 0 ]; then takeovers="$takeovers ${id:0:12} (resumed at $at)"; fi
  done
done
[ -n "$takeovers" ] || fail "no worker logged \"job started\" resuming job $job after the kill" worker
log "the killed worker is $victim_state; job $job taken over by:$takeovers"
log "job $job recovered: DONE $((SECONDS - faults_at)) s after the Redis restart ($((SECONDS - faults_started)) s from its start)"

log "passed in $((SECONDS - started_at)) s (image build ${build_seconds} s, stack $((SECONDS - stack_started)) s); image $IMAGE $((size / 1000000)) MB"
