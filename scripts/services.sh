#!/usr/bin/env bash
# Makes sure the local servers the integration tests talk to are installed,
# running and answering on their standard ports; prints one line per service.
# Idempotent: installs a Debian package only when it is missing and starts a
# server only when its port does not answer. There is no systemd here, so each
# server is started with its own daemon command (the machine notes list them).
#
#   service      package           port  why
#   postgresql   postgresql (15)   5432  repository contract tests (ARGUS_DATABASE_URL)
#   redis        redis-server      6379  event bus contract tests (Redis Streams)
#   nats         nats-server       4222  event bus contract tests (JetStream)
#   mosquitto    mosquitto         1883  MQTT integration
#   rabbitmq     rabbitmq-server   5672  broker integration
#
# It also ensures the test role and database exist in PostgreSQL:
#   ARGUS_PG_USER (argus) / ARGUS_PG_PASSWORD (argus) / ARGUS_PG_DATABASE (argus_test).
# The role may create databases, so tests can make and drop a fresh one per run.
#
# Usage: scripts/services.sh [service ...]   (default: all five)
# Env:   SERVICES_TIMEOUT  seconds to wait for each port (default 60)
set -euo pipefail

TIMEOUT=${SERVICES_TIMEOUT:-60}
PG_USER=${ARGUS_PG_USER:-argus}
PG_PASSWORD=${ARGUS_PG_PASSWORD:-argus}
PG_DATABASE=${ARGUS_PG_DATABASE:-argus_test}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then
    SUDO="sudo"
fi

# port_open PORT: whether something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port NAME PORT: wait up to TIMEOUT seconds for the port, or fail loudly.
wait_port() {
    local name=$1 port=$2 waited=0
    while ! port_open "$port"; do
        if ((waited >= TIMEOUT * 10)); then
            echo "services: $name did not answer on port $port within ${TIMEOUT}s" >&2
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# ensure_package PKG: install a Debian package if it is missing (see system-deps.sh).
ensure_package() {
    dpkg -s "$1" >/dev/null 2>&1 || "$HERE/system-deps.sh" "$1" >/dev/null
}

# report NAME PORT STARTED SECONDS
report() {
    if [[ $3 == yes ]]; then
        echo "services: $1 up on port $2 (started, ${4}s)"
    else
        echo "services: $1 up on port $2 (already running)"
    fi
}

# run_service NAME PORT START_FUNCTION
run_service() {
    local name=$1 port=$2 start=$3 started=no t0 ms
    t0=${EPOCHREALTIME/./}
    if ! port_open "$port"; then
        "$start"
        started=yes
    fi
    wait_port "$name" "$port"
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    report "$name" "$port" "$started" "$((ms / 1000)).$(((ms % 1000) / 100))"
}

pg_version() {
    ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1
}

start_postgresql() {
    local version
    version=$(pg_version)
    if [[ -z $version ]]; then
        # The package normally creates the cluster; make one if it was removed.
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        $SUDO pg_createcluster "$version" main >/dev/null
    fi
    # PostgreSQL refuses to run as root; pg_ctlcluster switches to the postgres user.
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
}

start_redis() {
    $SUDO mkdir -p /var/lib/redis /var/log/redis
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_nats() {
    $SUDO mkdir -p /var/lib/nats-server
    $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

start_mosquitto() {
    $SUDO install -d -o mosquitto -g mosquitto /run/mosquitto
    $SUDO mosquitto -d -c /etc/mosquitto/mosquitto.conf
}

start_rabbitmq() {
    # A node that is still booting holds no port yet; do not start a second one.
    if ! pgrep -u rabbitmq -x beam.smp >/dev/null; then
        $SUDO rabbitmq-server -detached
    fi
}

# ensure_pg_test_database: the test role (with CREATEDB) and its database.
ensure_pg_test_database() {
    local psql=(runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres)
    [[ $(id -u) -eq 0 ]] || psql=($SUDO -u postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres)
    "${psql[@]}" -v user="$PG_USER" -v password="$PG_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'password') \gexec
SQL
    "${psql[@]}" -v user="$PG_USER" -v db="$PG_DATABASE" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
    echo "services: postgresql role $PG_USER and database $PG_DATABASE ready"
}

SELECTED=("$@")
((${#SELECTED[@]})) || SELECTED=(postgresql redis nats mosquitto rabbitmq)

for service in "${SELECTED[@]}"; do
    case $service in
        postgresql)
            ensure_package postgresql
            run_service postgresql 5432 start_postgresql
            ensure_pg_test_database
            ;;
        redis)
            ensure_package redis-server
            run_service redis 6379 start_redis
            ;;
        nats)
            ensure_package nats-server
            run_service nats 4222 start_nats
            ;;
        mosquitto)
            ensure_package mosquitto
            run_service mosquitto 1883 start_mosquitto
            ;;
        rabbitmq)
            ensure_package rabbitmq-server
            run_service rabbitmq 5672 start_rabbitmq
            ;;
        *)
            echo "services: unknown service '$service'" >&2
            exit 2
            ;;
    esac
done
