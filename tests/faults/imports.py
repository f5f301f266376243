"""Imports of 2 GiB files: a WordPress export and a Ghost export, each a few real posts around
2 GiB of what an importer reads and skips (menu items; a Ghost table it does not import). Each
must finish, import its posts, and stay within a small peak resident memory: the files are read
as streams, never held.
"""

import json
import os
import subprocess
import time

HUGE_FILE_BYTES = 2 * 1024**3
# Peak resident memory of an import, whatever the file's size (100,000 posts: about 23 MiB).
IMPORT_PEAK_MIB = 64
IMPORT_TIMEOUT = 900


class HugeFiles:
    """The two files, made once per run and kept in the suite's directory."""

    def __init__(self, suite):
        self.suite = suite
        self._files = None

    def get(self):
        if self._files is None:
            self._files = {"wordpress": self._wordpress(), "ghost": self._ghost()}
        return self._files

    def _fill(self, out, row, separator, target):
        """Writes `row` (joined by `separator`) until the file reaches `target` bytes."""
        block = separator.join([row] * max(1, (1 << 20) // (len(row) + len(separator))))
        first = True
        while out.tell() < target:
            out.write(block if first else separator + block)
            first = False

    def _wordpress(self):
        path = os.path.join(self.suite.root, "huge.wordpress.xml")
        post = (
            "<item><title>Post {n}</title><link>https://huge.example/post-{n}/</link><dc:creator>writer</dc:creator>"
            "<content:encoded><![CDATA[<p>Post {n}, from a 2 GiB file.</p>]]></content:encoded>"
            "<wp:post_id>{n}</wp:post_id><wp:post_date_gmt>2020-01-0{n} 09:00:00</wp:post_date_gmt>"
            "<wp:post_name>huge-{n}</wp:post_name><wp:status>publish</wp:status>"
            "<wp:post_type>post</wp:post_type></item>\n"
        )
        menu = (
            "<item><title>Menu entry</title><wp:post_id>0</wp:post_id><wp:status>publish</wp:status>"
            "<wp:post_type>nav_menu_item</wp:post_type><wp:postmeta><wp:meta_key>_menu_item_url</wp:meta_key>"
            "<wp:meta_value><![CDATA[https://huge.example/somewhere/]]></wp:meta_value></wp:postmeta></item>"
        )
        with open(path, "w") as out:
            out.write(
                '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
                "<channel><title>Huge</title><wp:wxr_version>1.2</wp:wxr_version>"
                "<wp:base_site_url>https://huge.example</wp:base_site_url>\n"
            )
            out.write(post.format(n=1) + post.format(n=2))
            self._fill(out, menu, "\n", HUGE_FILE_BYTES)
            out.write("\n" + post.format(n=3) + "</channel></rss>\n")
        return path

    def _ghost(self):
        path = os.path.join(self.suite.root, "huge.ghost.json")

        def post(n):
            return json.dumps({
                "id": "huge%d" % n, "title": "Post %d" % n, "slug": "huge-%d" % n, "type": "post",
                "html": "<p>Post %d, from a 2 GiB file.</p>" % n, "status": "published",
                "visibility": "public", "published_at": "2020-01-0%dT09:00:00.000Z" % n,
            })

        recipient = json.dumps({
            "id": "0123456789abcdef01234567", "email_id": "0123456789abcdef01234567",
            "member_email": "reader@example.com", "member_name": "A reader", "processed_at": "2020-01-01T09:00:00.000Z",
        })
        with open(path, "w") as out:
            out.write('{"db": [{"meta": {"exported_on": 1700000000000, "version": "5.75.0"}, "data": {')
            out.write('"posts": [%s, %s, %s], "email_recipients": [' % (post(1), post(2), post(3)))
            self._fill(out, recipient, ",", HUGE_FILE_BYTES)
            out.write('], "posts_authors": [{"id": "pa", "post_id": "huge1", "author_id": "1", "sort_order": 0}],')
            out.write(' "users": [{"id": "1", "name": "Writer", "slug": "writer", "email": "writer@huge.example"}]}}]}')
        return path


def watch_peak(process, timeout):
    """Waits for `process` (killed past `timeout` seconds) and returns its peak resident memory in
    MiB: VmHWM, read while it runs. (Its rusage would count the suite's own memory, which the child
    had between fork and exec.)"""
    deadline = time.monotonic() + timeout
    peak_kib = 0
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
        try:
            with open("/proc/%d/status" % process.pid) as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak_kib = max(peak_kib, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        time.sleep(0.02)
    return peak_kib / 1024


def huge_imports(scope, database):
    files = scope.suite.huge_files.get()
    for source, path in files.items():
        size = os.path.getsize(path)
        report = os.path.join(scope.directory, "%s-report.json" % source)
        errors = os.path.join(scope.directory, "%s-errors.txt" % source)
        with open(errors, "w") as err:
            process = subprocess.Popen(
                [scope.suite.binary, "import", source, path, "--report", report],
                cwd=scope.directory,
                env=scope.suite.server_env(database, {}),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        peak_mib = watch_peak(process, IMPORT_TIMEOUT)
        with open(errors) as found:
            err = found.read()
        imported = None
        if os.path.exists(report):
            with open(report) as found:
                imported = json.load(found)["kinds"].get("posts", {}).get("imported")
        scope.check(
            "a %.1f GiB %s export imports its posts" % (size / 1024**3, source),
            process.returncode == 0 and imported == 3,
            "exit %s, %s posts imported%s" % (process.returncode, imported, (": " + err.strip()[-300:]) if err.strip() else ""),
        )
        scope.check(
            "a %.1f GiB %s export: peak RSS under %d MiB" % (size / 1024**3, source, IMPORT_PEAK_MIB),
            0 < peak_mib < IMPORT_PEAK_MIB,
            "peak RSS %.1f MiB" % peak_mib,
        )
