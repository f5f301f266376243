"""A backup taken while writers write, restored into a fresh database: `masthead backup` on
SQLite, and on PostgreSQL the `pg_dump`/`pg_restore` commands the README gives. The copy passes an
integrity check, a server starts on it, and every article acknowledged before the backup started
is there with its title.
"""

import itertools
import json
import os
import sqlite3
import subprocess

from harness import PostgresDatabase, Recorder, SqliteDatabase, join_all, login, now, run_threads, verify_articles

BACKUP_WRITERS = 4
BACKUP_DEMO_ARTICLES = 1000
# Acknowledged writes wanted before the backup starts, and the writing after it ends.
BACKUP_WRITES_BEFORE = 40
BACKUP_WRITING_AFTER = 0.5


def backup(scope, database):
    email, password = "backup@faults.test", "backup-test-password"
    scope.add_account(database, email, password)
    scope.cli(database, ["demo", "--articles", str(BACKUP_DEMO_ARTICLES)])
    server = scope.server(database)
    token = login(server, email, password)
    writes = Recorder()

    def writer(index):
        for n in itertools.count():
            if writes.stop.is_set():
                return
            title = "Backup writer %d article %d" % (index, n)
            reply = server.post_json("/api/v1/admin/articles", {"title": title, "body_markdown": "x"}, token)
            writes.add(reply, title=title, acknowledged_at=now())

    threads = run_threads(BACKUP_WRITERS, writer)
    until = now() + 60
    while now() < until and sum(1 for r in writes.snapshot() if r.status == 201) < BACKUP_WRITES_BEFORE:
        writes.stop.wait(0.05)
    started = now()
    copy = os.path.join(scope.directory, "backup.db" if database.kind == "sqlite" else "backup.dump")
    if database.kind == "sqlite":
        scope.cli(database, ["backup", copy])
    else:
        subprocess.run(["pg_dump", "--format=custom", "--file=" + copy, database.url], check=True,
                       capture_output=True, timeout=300)
    finished = now()
    writes.stop.wait(BACKUP_WRITING_AFTER)
    writes.stop.set()
    join_all(threads, 30)

    replies = writes.snapshot()
    before = [(json.loads(r.body)["data"]["id"], r.title) for r in replies if r.status == 201 and r.acknowledged_at < started]
    during = sum(1 for r in replies if r.status == 201 and started <= r.acknowledged_at < finished)
    failed = [r for r in replies if r.status != 201]
    scope.check(
        "writes go on while the backup runs",
        not failed and during > 0,
        "%d acknowledged before the backup, %d during its %.2f s, %d failed"
        % (len(before), during, finished - started, len(failed)),
    )

    restored = restore(scope, database, copy)
    server.stop()
    second = scope.server(restored, label="restored")
    missing, wrong = verify_articles(second, login(second, email, password), before)
    scope.check(
        "every article acknowledged before the backup started is in the restored copy",
        before and not missing and not wrong,
        "%d checked; %d missing, %d with another title" % (len(before), len(missing), len(wrong)),
    )


def restore(scope, database, copy):
    """Restores the copy into a fresh database and checks its integrity; returns the database."""
    if database.kind == "sqlite":
        directory = os.path.join(scope.directory, "restored")
        os.makedirs(directory)
        restored = SqliteDatabase(directory)
        path = restored.url[len("sqlite://"):]
        os.replace(copy, path)
        with sqlite3.connect(path) as conn:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        scope.check("the copy passes SQLite's integrity check", result == ["ok"], "integrity_check: %r" % result)
        return restored
    restored = PostgresDatabase(database.admin_url, database.name + "_restored")
    scope.suite.on_close(restored.drop)
    done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname=" + restored.url, copy],
                          capture_output=True, timeout=300)
    migrated = scope.cli(restored, ["migrate"])
    scope.check(
        "pg_restore restores the dump whole, and its schema is up to date",
        done.returncode == 0 and "(migrated)" not in migrated,
        "pg_restore exit %d %s; migrate: %s" % (done.returncode, done.stderr.decode()[-300:], migrated.strip()),
    )
    return restored
