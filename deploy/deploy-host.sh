#!/usr/bin/env bash
# Installs or updates the agent (or the hub) of one host over SSH, from a checkout of this
# repository (docs/deploy.md, "Deploy a host over SSH"): creates the data root (bootstrap.sh),
# copies the role's compose file, its env file and the agent's MQTT secret, loads or pulls the
# image, runs `docker compose up -d` and waits until the container is healthy. Needs ssh (and,
# for the hub, rsync) here; docker, compose and rsync on the host.
# --dry-run prints every command, one per line, and runs none of them.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/deploy-host.sh --role agent|hub --host [user@]host --env-file <file> [options]

  --role agent|hub      what runs on the host
  --host [user@]host    the SSH destination
  --env-file <file>     the compose variables of this host (agent: HOMELAB_NODE, HOMELAB_MQTT_URL;
                        see deploy/compose.<role>.yml), copied to <remote-dir>/deploy/<role>.env
  --secret-file <file>  agent: its MQTT secret (from `homelab nodes add <node>`), installed with
                        mode 0600 as <secret-dest>
  --secret-dest <path>  where the secret goes (default /opt/homelab/agent/<node>.secret, as
                        deploy/compose.agent.yml reads it)
  --image-tar <file>    an image saved with `docker save homelab-<role>:latest`, loaded on the host
  --image <ref>         an image to pull on the host and tag homelab-<role>:latest
                        (neither: the image already on the host is used)
  --remote-dir <dir>    where the compose files live on the host (default /opt/homelab-deploy)
  --compose <command>   the host's compose command (default "docker compose"; v1: docker-compose)
  --container <name>    the container whose health is awaited (default homelab-agent-<node> /
                        homelab-hub, as the compose files name them)
  --sudo                run the commands on the host with sudo
  --dry-run             print every command instead of running it
  -h, --help            this text
EOF
}

die() {
  echo "deploy-host.sh: $*" >&2
  echo "run deploy/deploy-host.sh --help for the options" >&2
  exit 2
}

role='' host='' env_file='' secret_file='' secret_dest=''
image_tar='' image='' remote_dir='/opt/homelab-deploy' compose='docker compose' container='' sudo='' dry_run=0

need_value() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --role) need_value "$@"; role="$2"; shift 2 ;;
    --host) need_value "$@"; host="$2"; shift 2 ;;
    --env-file) need_value "$@"; env_file="$2"; shift 2 ;;
    --secret-file) need_value "$@"; secret_file="$2"; shift 2 ;;
    --secret-dest) need_value "$@"; secret_dest="$2"; shift 2 ;;
    --image-tar) need_value "$@"; image_tar="$2"; shift 2 ;;
    --image) need_value "$@"; image="$2"; shift 2 ;;
    --remote-dir) need_value "$@"; remote_dir="$2"; shift 2 ;;
    --compose) need_value "$@"; compose="$2"; shift 2 ;;
    --container) need_value "$@"; container="$2"; shift 2 ;;
    --sudo) sudo='sudo '; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done

# Local files as absolute paths: the commands run from the repository's root.
absolute() { if [[ -z "$1" || "$1" == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
env_file="$(absolute "$env_file")" secret_file="$(absolute "$secret_file")" image_tar="$(absolute "$image_tar")"

# Everything below ends up in command lines: only plain names and paths pass.
safe_path='^[A-Za-z0-9._/+@-]+$'
case "$role" in
  agent | hub) ;;
  '') die "--role is required (agent or hub)" ;;
  *) die "--role must be agent or hub, not '$role'" ;;
esac
[[ -n "$host" ]] || die "--host is required ([user@]host)"
[[ "$host" =~ ^([A-Za-z0-9._-]+@)?[A-Za-z0-9._-]+$ && "$host" != -* ]] || die "--host '$host' is not [user@]host"
[[ -n "$env_file" ]] || die "--env-file is required"
[[ -f "$env_file" ]] || die "--env-file '$env_file' does not exist"
# The agent's container and secret are named after its node (deploy/compose.agent.yml).
if [[ "$role" == agent ]]; then
  node="$(sed -n 's/^HOMELAB_NODE=//p' "$env_file" | tail -n 1)"
  [[ "$node" =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]] || die "--env-file '$env_file' must set HOMELAB_NODE to the node's name (a-z 0-9 _ -)"
  container="${container:-homelab-agent-$node}"
  secret_dest="${secret_dest:-/opt/homelab/agent/$node.secret}"
else
  container="${container:-homelab-hub}"
fi
[[ -z "$secret_file" || -f "$secret_file" ]] || die "--secret-file '$secret_file' does not exist"
[[ -z "$secret_file" || "$role" == agent ]] || die "--secret-file is for --role agent (the hub keeps its identities in its data root)"
[[ -z "$image_tar" || -f "$image_tar" ]] || die "--image-tar '$image_tar' does not exist"
[[ -z "$image_tar" || -z "$image" ]] || die "--image-tar and --image exclude each other"
[[ -z "$image" || "$image" =~ ^[A-Za-z0-9._/:@-]+$ ]] || die "--image '$image' is not an image reference"
[[ "$container" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "--container '$container' is not a container name"
[[ "$compose" == 'docker compose' || "$compose" == 'docker-compose' ]] || die "--compose must be 'docker compose' or 'docker-compose'"
for p in "$env_file" "$secret_file" "$image_tar" "$secret_dest" "$remote_dir"; do
  [[ -z "$p" || "$p" =~ $safe_path ]] || die "'$p': use a path of letters, digits and . _ / + @ -"
done
[[ "$remote_dir" == /* && ( -z "$secret_dest" || "$secret_dest" == /* ) ]] || die "--remote-dir and --secret-dest must be absolute paths on the host"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
compose_file="$remote_dir/deploy/compose.$role.yml"
remote_env="$remote_dir/deploy/$role.env"
up="${sudo}${compose} -p homelab-$role -f $compose_file --env-file $remote_env"

commands=()
add() { commands+=("$1"); }
# Files go through ssh's stdin into `install`, so --sudo works for them as for the rest.
add "ssh $host ${sudo}bash -s < deploy/bootstrap.sh"
add "ssh $host ${sudo}install -D -m 644 /dev/stdin $compose_file < deploy/compose.$role.yml"
add "ssh $host ${sudo}install -D -m 600 /dev/stdin $remote_env < $env_file"
[[ -n "$secret_file" ]] && add "ssh $host ${sudo}install -m 600 -o 1000 -g 1000 /dev/stdin $secret_dest < $secret_file"
# The hub's compose file mounts ../hosts: the desired state goes beside deploy/, each file replaced whole.
rsync_path=''
[[ -n "$sudo" ]] && rsync_path="--rsync-path='sudo rsync' "
[[ "$role" == hub ]] && add "rsync -a --delete ${rsync_path}hosts/ $host:$remote_dir/hosts/"
[[ -n "$image_tar" ]] && add "ssh $host ${sudo}docker load < $image_tar"
[[ -n "$image" ]] && add "ssh $host ${sudo}docker pull $image" && add "ssh $host ${sudo}docker tag $image homelab-$role:latest"
add "ssh $host $up up -d --no-build"
health="ssh $host ${sudo}docker inspect --format {{.State.Health.Status}} $container"

if [[ $dry_run -eq 1 ]]; then
  printf '%s\n' "${commands[@]}"
  echo "$health"
  exit 0
fi

for c in "${commands[@]}"; do
  echo "+ $c" >&2
  bash -c "$c"
done
# The images' HEALTHCHECK decides: up to 60 s for the first healthy answer.
for _ in $(seq 1 30); do
  status="$(bash -c "$health" 2>/dev/null || true)"
  if [[ "$status" == healthy ]]; then
    echo "$container on $host is healthy" >&2
    exit 0
  fi
  sleep 2
done
echo "deploy-host.sh: $container on $host is not healthy after 60 s (last status: ${status:-none}); its last log lines:" >&2
bash -c "ssh $host ${sudo}docker logs --tail 30 $container" >&2 || true
exit 1
