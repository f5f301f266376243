#!/usr/bin/env bash
# WordPress import benchmark: a generated WXR 1.2 export of POSTS posts (100,000 by default) by 20
# authors under 60 categories and tags, each post about 1.5 KB of block-editor HTML with a
# caption shortcode, one in ten with two threaded comments, and every post's permalink redirected;
# imported with the release binary into a fresh database; then imported again (nothing twice).
#
#   bench/import.sh                          # SQLite
#   DATABASE=postgres bench/import.sh        # PostgreSQL (127.0.0.1:5432, role root)
#   POSTS=10000 bench/import.sh
#
# Prints the file's size, the import's wall time and rate, and its peak resident memory (GNU time),
# for the first import and for the second.
set -euo pipefail
cd "$(dirname "$0")/.."

POSTS="${POSTS:-100000}"
DATABASE="${DATABASE:-sqlite}"
WORK="$(mktemp -d /tmp/masthead-bench-import.XXXXXX)"
PG_DB="masthead_bench_import_$$"
cleanup() {
  rm -rf "$WORK"
  if [ "$DATABASE" = postgres ]; then psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
need /usr/bin/time time

echo "== generating $POSTS posts"
python3 - "$WORK/site.xml" "$POSTS" <<'PY'
import sys
path, posts = sys.argv[1], int(sys.argv[2])
with open(path, "w", encoding="utf-8") as out:
    out.write('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
              'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
              'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
              '<channel><title>Bench</title><link>https://old.example</link>'
              '<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://old.example</wp:base_site_url>\n')
    for a in range(20):
        out.write(f'<wp:author><wp:author_id>{a}</wp:author_id><wp:author_login>writer{a}</wp:author_login>'
                  f'<wp:author_email>writer{a}@old.example</wp:author_email>'
                  f'<wp:author_display_name><![CDATA[Writer Number {a}]]></wp:author_display_name></wp:author>\n')
    for t in range(60):
        kind = "category" if t < 30 else "tag"
        if kind == "category":
            out.write(f'<wp:category><wp:term_id>{t}</wp:term_id><wp:category_nicename>topic-{t}</wp:category_nicename>'
                      f'<wp:cat_name><![CDATA[Topic {t}]]></wp:cat_name></wp:category>\n')
        else:
            out.write(f'<wp:tag><wp:term_id>{t}</wp:term_id><wp:tag_slug>tag-{t}</wp:tag_slug>'
                      f'<wp:tag_name><![CDATA[Tag {t}]]></wp:tag_name></wp:tag>\n')
    paragraph = ("<!-- wp:paragraph -->\n<p>Lorem ipsum dolor sit amet, <strong>consectetur</strong> adipiscing "
                 "elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim "
                 "veniam, quis nostrud exercitation ullamco laboris.</p>\n<!-- /wp:paragraph -->\n\n")
    for p in range(1, posts + 1):
        comments = ""
        if p % 10 == 0:
            comments = "".join(
                f'<wp:comment><wp:comment_id>{p * 2 + c}</wp:comment_id><wp:comment_author>Reader {c}</wp:comment_author>'
                f'<wp:comment_author_email>reader{c}@example.com</wp:comment_author_email>'
                f'<wp:comment_date_gmt>2020-01-02 10:00:00</wp:comment_date_gmt>'
                f'<wp:comment_content><![CDATA[Comment {c} on post {p}]]></wp:comment_content>'
                f'<wp:comment_approved>1</wp:comment_approved><wp:comment_type></wp:comment_type>'
                f'<wp:comment_parent>{p * 2 if c else 0}</wp:comment_parent></wp:comment>' for c in range(2))
        body = paragraph * 3 + (f'[caption id="attachment_{p}" width="300"]<img src="https://old.example/img/{p}.jpg" '
                                f'alt="Picture {p}" /> Caption {p}[/caption]\n\n') + paragraph * 2
        year, month, day = 2010 + p % 14, 1 + p % 12, 1 + p % 28
        out.write(f'<item><title><![CDATA[Post number {p}: a headline]]></title>'
                  f'<link>https://old.example/{year}/{month:02}/post-{p}/</link>'
                  f'<dc:creator>writer{p % 20}</dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>'
                  f'<excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>{p}</wp:post_id>'
                  f'<wp:post_date_gmt>{year}-{month:02}-{day:02} 09:00:00</wp:post_date_gmt>'
                  f'<wp:comment_status>open</wp:comment_status><wp:post_name>post-{p}</wp:post_name>'
                  f'<wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:is_sticky>0</wp:is_sticky>'
                  f'<category domain="category" nicename="topic-{p % 30}"><![CDATA[Topic {p % 30}]]></category>'
                  f'<category domain="post_tag" nicename="tag-{30 + p % 30}"><![CDATA[Tag {30 + p % 30}]]></category>'
                  f'{comments}</item>\n')
    out.write("</channel></rss>\n")
PY
echo "file: $(du -m "$WORK/site.xml" | cut -f1) MB"

cargo build --release --quiet
BIN="target/release/masthead"
if [ "$DATABASE" = postgres ]; then
  psql -h 127.0.0.1 -U root -d postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
  export DATABASE_URL="postgres://root@127.0.0.1:5432/$PG_DB"
else
  export DATABASE_URL="sqlite://$WORK/bench.db"
fi
export MASTHEAD_LOG=warn
"$BIN" migrate >/dev/null

run() {
  local label="$1"
  local started ended
  started=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$WORK/rss" "$BIN" import wordpress "$WORK/site.xml" --report "$WORK/report.json" >/dev/null
  ended=$(date +%s.%N)
  python3 - "$label" "$started" "$ended" "$WORK/rss" "$WORK/report.json" "$POSTS" <<'PY'
import json, sys
label, started, ended, rss_file, report_file, posts = sys.argv[1:]
seconds = float(ended) - float(started)
rss_mib = int(open(rss_file).read().split()[-1]) / 1024
report = json.load(open(report_file))
imported = report["kinds"]["posts"]["imported"]
print(f"{label}: {imported} posts imported in {seconds:.1f} s ({int(posts) / seconds:,.0f} posts/s read), "
      f"peak RSS {rss_mib:.1f} MiB")
PY
}
echo "== import into a fresh $DATABASE database"
run "first import"
echo "== the same file again"
run "second import"
