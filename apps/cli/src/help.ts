export const MAIN_HELP = `homelab — self-healing homelab control plane

Usage: homelab <command> [options]

Commands:
  up         run a hub with its embedded broker and an agent for this machine (demo/dev)
  hub        run the hub: broker, event log, observer, supervisor, executor, UI/API on 18180
  agent      run the node agent of one Docker host
  actions    list, show, approve or reject actions
  validate   check hosts/*/services.yaml and print every problem
  replay     rebuild world state from the event log

Run 'homelab <command> --help' for the options of a command.`;

export const HUB_HELP = `Usage: homelab hub [options]

Options (environment variable in brackets):
  --root <dir>        data root (HOMELAB_ROOT, default /opt/homelab)
  --hosts <dir>       desired state folder with <node>/services.yaml (HOMELAB_HOSTS_DIR, default ./hosts)
  --mqtt-url <url>    use an external broker (e.g. Mosquitto) instead of the embedded one (HOMELAB_MQTT_URL)
  --mqtt-host <addr>  embedded broker listen address (HOMELAB_MQTT_HOST, default 127.0.0.1)
  --mqtt-port <port>  embedded broker port (HOMELAB_MQTT_PORT, default 1883)
  --http-host <addr>  UI/API listen address (HOMELAB_HTTP_HOST, default 127.0.0.1)
  --http-port <port>  UI/API port (HOMELAB_HTTP_PORT, default 18180)
Also: NODE_ALIAS_MAP='{"node-1":"piha"}' maps reported node names to canonical ones.`;

export const AGENT_HELP = `Usage: homelab agent --node <name> [options]

Options (environment variable in brackets):
  --node <name>           this host's node name (HOMELAB_NODE)
  --mqtt-url <url>        broker URL (HOMELAB_MQTT_URL, default mqtt://127.0.0.1:1883)
  --docker-socket <path>  Docker socket (DOCKER_SOCKET, default /var/run/docker.sock)
  --state-dir <dir>       agent state: seq, outbox, journal, desired cache
                          (HOMELAB_AGENT_STATE_DIR, default <HOMELAB_ROOT>/agent/<node>)`;

export const ACTIONS_HELP = `Usage: homelab actions <list|show|approve|reject> [id] [options]

  list [--state <state>]   list actions (all states, or one)
  show <id>                print one action as JSON
  approve <id>             approve a pending action
  reject <id>              reject a pending action

Options:
  --hub <url>    hub API (HOMELAB_HUB_URL, default http://127.0.0.1:18180)
  --by <name>    who decides (default: $USER)
  --note <text>  a note kept in the action's audit`;

export const UP_HELP = `Usage: homelab up [options]

Runs a hub (embedded broker, UI/API on 18180) and an agent for this machine in
one process, with data under ./.homelab unless --root is given.

Options:
  --root <dir>      data root (default ./.homelab)
  --hosts <dir>     desired state folder (default ./hosts)
  --node <name>     this machine's node name (default: derived from the hostname)
  --http-port, --mqtt-port, --docker-socket as for 'hub' and 'agent'`;

export const VALIDATE_HELP = `Usage: homelab validate [--hosts <dir>]

Checks every <dir>/<node>/services.yaml (and the optional <dir>/policy.yaml)
against the schema and prints each
problem with file, path and reason. Exit code 1 when any file is invalid.`;
