import { settingsHelp } from '@homelab/contracts';
import { HUB_SETTINGS } from '@homelab/hub';
import { MIRROR_VIEW_SETTINGS } from '@homelab/hub/mirror-view';
import { LOGS_HELP } from './agent-help';

export const MAIN_HELP = `homelab — self-healing homelab control plane

Usage: homelab <command> [options]

Commands:
  up         run a hub with its embedded broker and an agent for this machine (demo/dev)
  hub        run the hub: broker, event log, observer, supervisor, executor, UI/API on 18180
  agent      run the node agent of one Docker host
  actions    list, show, approve, reject or propose actions
  adopt      draft hosts/<node>/services.yaml from the containers running on a node
  validate   check hosts/*/services.yaml and print every problem
  replay     rebuild world state from the event log
  nodes      add, list or remove MQTT identities (nodes, the hub, inspectors, Home Assistant)
  broker-config  write Mosquitto password, ACL and conf files from those identities
  world      world state now, at a past instant (--at), or what changed between two (--diff)
  mirror     keep a local copy of a hub's world state (e.g. on another host)
  mcp        serve the hub's state to an AI assistant (MCP, stdio or HTTP): read tools and propose
  auth       hash a UI password, add an API token
  notify     send a test message through each notifier of <root>/notifications.yaml

Run 'homelab <command> --help' for the options of a command; 'homelab --version' prints the version.`;

export const HUB_HELP = `Usage: homelab hub [options]

${settingsHelp(HUB_SETTINGS)}
${LOGS_HELP}
UI login: user 'admin'; the first start writes a generated password and API tokens to
<root>/auth/initial-credentials.json. See docs/ui-api.md and docs/configuration.md.`;

// In its own file: the agent-only bundle must not load the hub (deploy/agent-bundle.mjs).
export { AGENT_HELP } from './agent-help';

export const ACTIONS_HELP = `Usage: homelab actions <list|show|approve|reject|propose> [id] [options]

  list [--state <state>]   list actions (all states, or one)
  show <id>                print one action as JSON
  approve <id>             approve a pending action
  reject <id>              reject a pending action
  propose <type> <node> [service]
                           propose container_restart (or restart), redeploy or
                           disk_cleanup now; it waits for approval like any other

Options:
  --hub <url>    hub API (HOMELAB_HUB_URL or CONTROL_PLANE_URL, default http://127.0.0.1:18180)
  --token <t>    API token (HOMELAB_TOKEN; or --token-file / HOMELAB_TOKEN_FILE; default: the
                 token generated in <HOMELAB_ROOT or ./.homelab>/auth/initial-credentials.json)
  --by <name>    who decides (default: $USER)
  --note <text>  a note kept in the action's audit`;

export const ADOPT_HELP = `Usage: homelab adopt --node <name> [--write] [--force]

Drafts hosts/<node>/services.yaml from the containers the node's agent reports
(one service per compose project/service, standalone containers on their own,
the agent and containers labelled homelab.adopt=false left out) and shows it as
a diff against the current file. Existing services are kept as written; only
new ones are added.

Options:
  --node <name>  the node (required)
  --write        write the draft shown (refused if the file changed meanwhile)
  --force        replace services of the same name, or an invalid file
  --json         print the draft (or the write's result) as JSON
  --hub, --token, --token-file as for 'actions' (reading needs a viewer token, --write an operator's)`;

export const UP_HELP = `Usage: homelab up [options]

Runs a hub (embedded broker, UI/API on 18180) and an agent for this machine in
one process, with data under ./.homelab unless --root is given. The broker
admits no anonymous client: the local agent gets a fresh MQTT secret at every
start (only its hash is stored); other clients need 'homelab nodes add'.

Options:
  --root <dir>      data root (default ./.homelab)
  --hosts <dir>     desired state folder (default ./hosts)
  --node <name>     this machine's node name (default: derived from the hostname)
  --http-port, --mqtt-port, --docker-socket as for 'hub' and 'agent'

${LOGS_HELP}`;

export const NOTIFY_HELP = `Usage: homelab notify test [--root <dir>]

Reads <root>/notifications.yaml (root: --root, else HOMELAB_ROOT, else /opt/homelab)
with its secrets from the environment, sends one test message through each
notifier it configures (Telegram, ntfy, webhook) and prints which worked and,
for each that failed, why. Exit code 1 when one failed or the file is wrong,
2 when there is no file. See docs/notifications.md.`;

export const VALIDATE_HELP = `Usage: homelab validate [--hosts <dir>]

Checks every <dir>/<node>/services.yaml (and the optional <dir>/policy.yaml)
against the schema and prints each
problem with file, path and reason. Exit code 1 when any file is invalid.`;

export const MIRROR_HELP = `Usage: homelab mirror --from <hub url> --to <dir> [--interval 10s] [--once] [--serve [--port 18181] [--host 127.0.0.1]]

Copies the hub's world state into <dir>/world/{services,nodes}.json, the JSON
summary into <dir>/summary.json and the outcome into <dir>/mirror-status.json,
every --interval, each file replaced atomically. While the hub is unreachable
the last copy stays and mirror-status.json says since when.

Options:
  --from <url>       the hub (HOMELAB_HUB_URL, or CONTROL_PLANE_URL as older mirror deployments set it)
  --to <dir>         where the copy goes
  --token <t>        API token, a viewer token is enough (HOMELAB_TOKEN, or --token-file / HOMELAB_TOKEN_FILE)
  --once             one pass; exit code 1 when it failed
${settingsHelp(MIRROR_VIEW_SETTINGS).split('\n').slice(1).join('\n')}

With --serve the copy is also shown on a read-only page (/ and /summary, JSON
or ?format=markdown, with "Copy for AI") marked with the hub's address and the
copy's age, also while the hub is down. On 127.0.0.1 it needs no login; any
other --host needs --view-token-file (docs/ui-api.md, "Mirror's page").`;

export const MCP_HELP = `Usage: homelab mcp [--hub <url>] [--token <t>]
       homelab mcp [--hub <url>] --http-port <port> [--http-host 127.0.0.1]

An MCP server for AI assistants: read tools (summary, world, world at a time,
events, actions, why) and one write tool, propose, that only creates a pending
action for an operator to approve. It talks to the hub's API with a token and
can do nothing the token may not. See docs/mcp.md.

Over stdio (the assistant starts this command):
  --hub <url>          hub API (HOMELAB_HUB_URL or CONTROL_PLANE_URL, default http://127.0.0.1:18180)
  --token <t>          API token (HOMELAB_TOKEN; or --token-file / HOMELAB_TOKEN_FILE; default: the
                       viewer token in <HOMELAB_ROOT or ./.homelab>/auth/initial-credentials.json).
                       A viewer token reads; an operator token may also propose.

Over streamable HTTP at http://<host>:<port>/mcp:
  --http-port <port>   serve MCP on this port
  --http-host <addr>   listen address (default 127.0.0.1)
  Holds no token: every request carries its client's own (Authorization: Bearer).`;

export const AUTH_HELP = `Usage: homelab auth <hash-password|token> [options]

  hash-password                     read a password (stdin or prompt) and print its scrypt hash,
                                    for HOMELAB_ADMIN_PASSWORD_HASH
  token --name <n> [--role viewer|operator] [--root <dir>]
                                    add an API token to <root>/auth/auth.json and print it once

The hub's first start creates <root>/auth/ with user 'admin', a generated
password and two tokens (operator, viewer) in auth/initial-credentials.json.`;

export const NODES_HELP = `Usage: homelab nodes <add|list|remove> [name] [options]

  add <name>       create an MQTT identity and print its secret once (alone on stdout)
  list             list identities: name, role, created
  remove <name>    delete an identity; its secret stops working at the next connection

Options:
  --root <dir>          hub data root (HOMELAB_ROOT, default /opt/homelab); the identities
                        are kept hashed in <root>/state/mqtt-credentials.json
  --role <role>         node (default), hub (name homelab-hub: the hub on an external broker)
                        or inspector (read-only homelab/#, e.g. mosquitto_sub) or
                        homeassistant (Home Assistant's MQTT integration: reads discovery
                        and state, publishes only its status)
  --rotate              replace the secret of an existing identity
  --secret-file <file>  write the secret to this file (mode 0600) instead of stdout`;

export const BROKER_CONFIG_HELP = `Usage: homelab broker-config --out <dir> [--root <dir>] [--port 1883] [--bind 127.0.0.1]
                             [--ha-discovery-prefix homeassistant] [--ha-approve-buttons]

Writes <dir>/passwords (Mosquitto PBKDF2-SHA512 hashes, mode 0600), <dir>/acl (the
embedded broker's rules, per identity) and <dir>/mosquitto.conf (listener <port> <bind>,
allow_anonymous false, the packet limit, use_username_as_clientid) from the identities of
'homelab nodes'. Rerun after adding or removing one and reload Mosquitto (SIGHUP).

Options:
  --port <port>   listener port (default 1883)
  --bind <addr>   listener address (default 127.0.0.1, loopback only); the address agents reach,
                  e.g. a LAN or Tailscale IP, or 0.0.0.0 for every interface
  --ha-discovery-prefix <topic>  Home Assistant's discovery prefix, as the hub has it
                  (HOMELAB_HA_DISCOVERY_PREFIX, default homeassistant)
  --ha-approve-buttons  let Home Assistant publish Approve presses, as the hub allows them
                  (HOMELAB_HA_APPROVE_BUTTONS=true; docs/home-assistant.md)`;

export const WORLD_HELP = `Usage: homelab world [--at <time>] [--diff <t1> <t2>] [--json] [--hub <url>]

World state as the hub folds it: now, as it was at --at (rebuilt from the event
log, starting at the newest history snapshot before it), or with --diff what
changed from t1 to t2 (services' health, nodes' connection, Docker and disks).
A time is an ISO time (2026-11-27T10:00:00Z) or a duration back from now
(90m, 2h, 3d). A viewer token is enough (--token, HOMELAB_TOKEN).`;
