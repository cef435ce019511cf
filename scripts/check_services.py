"""Say exactly which service is missing and how to point the workbench at one; create the database."""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis


def main() -> int:
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    ok = True
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, connect_timeout=3, autocommit=True) as conn:
            version = conn.info.server_version
            if version < 150000:
                print(
                    f"error: PostgreSQL {version // 10000} at {parts.hostname}:{parts.port or 5432} is too old; Django 6.1 needs 15 or newer.",
                    file=sys.stderr,
                )
                ok = False
            elif not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}")
    except psycopg.OperationalError as exc:
        ok = False
        print(
            f"error: no PostgreSQL answers at {parts.hostname}:{parts.port or 5432} as user {parts.username!r} ({str(exc).strip().splitlines()[0]}).\n"
            "  Start one (Debian: pg_ctlcluster 15 main start), or point the workbench at yours:\n"
            "  DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/workbench ./scripts/start",
            file=sys.stderr,
        )
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        ok = False
        print(
            f"error: no Redis answers at {redis_url} ({exc}).\n"
            "  Start one (Debian: apt-get install redis-server && redis-server --daemonize yes), or point the workbench at yours:\n"
            "  REDIS_URL=redis://HOST:6379/0 ./scripts/start",
            file=sys.stderr,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
