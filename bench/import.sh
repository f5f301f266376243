#!/usr/bin/env bash
# Import benchmark: a generated export of POSTS posts (100,000 by default) by 20 authors under 60
# categories and tags, each post about 1.5 KB of HTML, imported with the release binary into a
# fresh database; then imported again (nothing twice).
# - WordPress (the default): WXR 1.2, block-editor HTML with a caption shortcode, one post in ten
#   with two threaded comments, and every post's permalink redirected.
# - Ghost (FORMAT=ghost): a Ghost 5 JSON export, each post with two tags, an author, posts_meta
#   (SEO fields, feature image alt text) and a feature image, and the Mobiledoc and Lexical
#   copies a real export carries (read past, not kept).
#
#   bench/import.sh                          # WordPress into SQLite
#   DATABASE=postgres bench/import.sh        # PostgreSQL (127.0.0.1:5432, role root)
#   FORMAT=ghost bench/import.sh
#   POSTS=10000 bench/import.sh
#
# Prints the file's size, the import's wall time and rate, and its peak resident memory (GNU time),
# for the first import and for the second.
set -euo pipefail
cd "$(dirname "$0")/.."

POSTS="${POSTS:-100000}"
DATABASE="${DATABASE:-sqlite}"
FORMAT="${FORMAT:-wordpress}"
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

echo "== generating $POSTS $FORMAT posts"
if [ "$FORMAT" = ghost ]; then
  FILE="$WORK/site.json"
  python3 - "$FILE" "$POSTS" <<'PY'
import json, sys
path, posts = sys.argv[1], int(sys.argv[2])
paragraph = ("<p>Lorem ipsum dolor sit amet, <strong>consectetur</strong> adipiscing elit, sed do eiusmod "
             "tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
             "exercitation ullamco laboris.</p>")
with open(path, "w", encoding="utf-8") as out:
    out.write('{"db": [{"meta": {"exported_on": 1700000000000, "version": "5.75.0"}, "data": {"posts": [')
    for p in range(1, posts + 1):
        html = paragraph * 3 + (f'<figure class="kg-card kg-image-card"><img src="__GHOST_URL__/content/images/{p}.jpg" '
                                f'class="kg-image" alt="Picture {p}"><figcaption>Caption {p}</figcaption></figure>') + paragraph * 2
        year, month, day = 2010 + p % 14, 1 + p % 12, 1 + p % 28
        row = {"id": f"{p:024x}", "uuid": f"uuid-{p}", "title": f"Post number {p}: a headline", "slug": f"post-{p}",
               "mobiledoc": json.dumps({"version": "0.3.1", "cards": [["html", {"html": html}]]}), "lexical": None,
               "html": html, "plaintext": "Lorem ipsum", "feature_image": f"__GHOST_URL__/content/images/cover-{p}.jpg",
               "featured": p % 50 == 0, "type": "post", "status": "published", "visibility": "public",
               "created_at": f"{year}-{month:02}-{day:02}T08:00:00.000Z", "updated_at": f"{year}-{month:02}-{day:02}T09:00:00.000Z",
               "published_at": f"{year}-{month:02}-{day:02}T09:00:00.000Z", "custom_excerpt": None, "canonical_url": None}
        out.write(("," if p > 1 else "") + json.dumps(row))
    out.write('], "posts_authors": [')
    out.write(",".join(json.dumps({"id": f"a{p}", "post_id": f"{p:024x}", "author_id": f"u{p % 20}", "sort_order": 0})
                       for p in range(1, posts + 1)))
    out.write('], "posts_meta": [')
    out.write(",".join(json.dumps({"id": f"m{p}", "post_id": f"{p:024x}", "meta_title": f"Post {p} for search",
                                   "meta_description": f"What post {p} says", "feature_image_alt": f"Cover {p}",
                                   "email_only": False}) for p in range(1, posts + 1)))
    out.write('], "posts_tags": [')
    out.write(",".join(json.dumps({"id": f"t{p}-{k}", "post_id": f"{p:024x}", "tag_id": f"tag{(p + k * 30) % 60}",
                                   "sort_order": k}) for p in range(1, posts + 1) for k in range(2)))
    out.write('], "tags": [')
    out.write(",".join(json.dumps({"id": f"tag{t}", "name": f"Tag {t}", "slug": f"tag-{t}", "visibility": "public"})
                       for t in range(60)))
    out.write('], "users": [')
    out.write(",".join(json.dumps({"id": f"u{a}", "name": f"Writer Number {a}", "slug": f"writer-{a}",
                                   "email": f"writer{a}@old.example", "password": "$2a$10$never.read"}) for a in range(20)))
    out.write('], "settings": [{"id": "s1", "key": "db_hash", "value": "b6c4e6a2-bench"}]}}]}\n')
PY
else
  FILE="$WORK/site.xml"
  python3 - "$FILE" "$POSTS" <<'PY'
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
fi
echo "file: $(du -m "$FILE" | cut -f1) MB"

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
  local site=()
  if [ "$FORMAT" = ghost ]; then site=(--site-url https://old.example); fi
  /usr/bin/time -f "%M" -o "$WORK/rss" "$BIN" import "$FORMAT" "$FILE" "${site[@]}" --report "$WORK/report.json" >/dev/null
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
