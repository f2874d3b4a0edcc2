#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ answer on loopback, starting them when they are down.
# Under CI=true a service that cannot be started is an error; elsewhere a warning (the tests
# that need it then skip, saying why).
set -u

ci() { [ "${CI:-}" = "true" ]; }
say() { printf 'services: %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # port seconds
  for _ in $(seq "$2"); do port_open "$1" && return 0; sleep 1; done
  return 1
}

failed=0

if ! port_open 5432; then
  say "PostgreSQL is down on 127.0.0.1:5432; starting it"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1 | sed 's/^/services: /' >&2
    done
  else
    say "PostgreSQL is not installed (apt-get install postgresql)"
  fi
  wait_port 5432 30 || { say "PostgreSQL did not come up on 127.0.0.1:5432"; failed=1; }
fi

if ! port_open 5672; then
  say "RabbitMQ is down on 127.0.0.1:5672; starting it"
  if command -v rabbitmq-server >/dev/null 2>&1; then
    rabbitmq-server -detached 2>&1 | sed 's/^/services: /' >&2
  else
    say "RabbitMQ is not installed (apt-get install rabbitmq-server)"
  fi
  wait_port 5672 90 || { say "RabbitMQ did not come up on 127.0.0.1:5672"; failed=1; }
fi

if [ "$failed" -ne 0 ]; then
  if ci; then
    say "required services are missing; the integration tests cannot run (CI=true)"
    exit 1
  fi
  say "continuing: tests that need the missing services will be skipped"
fi
exit 0
