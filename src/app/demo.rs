//! Demo content for trying Masthead and for benchmarks: authors, tags and N published articles
//! with realistic Markdown bodies, written straight to the database in large transactions.
//!
//! The content is deterministic (a seeded generator), so two runs make the same site. About 1 %
//! of the articles mention "zephyr", a word found nowhere else: the benchmark's search term.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::articles::store::{ArticleContent, ArticleTags, insert_article};
use crate::auth::Role;
use crate::authors::model::NewAccount;
use crate::db::{self, DbConnection, write_transaction};
use crate::error::ApiError;
use crate::markdown::render;
use crate::schema::{authors, tags};

/// Articles written per transaction.
const BATCH: usize = 500;
/// The word that about 1 % of the articles contain.
pub const RARE_WORD: &str = "zephyr";

const WORDS: &[&str] = &[
    "the",
    "engine",
    "city",
    "council",
    "river",
    "budget",
    "school",
    "market",
    "report",
    "story",
    "water",
    "energy",
    "transport",
    "housing",
    "vote",
    "season",
    "team",
    "festival",
    "museum",
    "library",
    "garden",
    "bridge",
    "station",
    "harbour",
    "weather",
    "storm",
    "election",
    "policy",
    "science",
    "research",
    "health",
    "hospital",
    "doctor",
    "teacher",
    "student",
    "artist",
    "writer",
    "music",
    "theatre",
    "film",
    "book",
    "history",
    "future",
    "village",
    "neighbourhood",
    "street",
    "night",
    "morning",
    "summer",
    "winter",
    "price",
    "cost",
    "plan",
    "project",
    "data",
    "software",
    "network",
    "open",
    "public",
    "local",
    "national",
    "small",
    "large",
    "new",
    "old",
    "quiet",
    "busy",
    "green",
    "bright",
    "careful",
    "sudden",
    "long",
    "short",
    "early",
    "late",
    "and",
    "or",
    "but",
    "with",
    "without",
    "under",
    "over",
    "between",
    "after",
    "before",
    "during",
    "because",
    "although",
    "while",
    "residents",
    "officials",
    "volunteers",
    "experts",
    "visitors",
    "readers",
    "said",
    "announced",
    "reported",
    "found",
    "built",
    "opened",
    "closed",
    "changed",
    "moved",
    "grew",
    "fell",
    "rose",
    "started",
    "finished",
    "argued",
    "agreed",
    "questioned",
];

const TAGS: &[&str] = &[
    "Politics",
    "Economy",
    "Climate",
    "Science",
    "Technology",
    "Health",
    "Education",
    "Culture",
    "Sport",
    "Travel",
    "Food",
    "Music",
    "Film",
    "Books",
    "Housing",
    "Transport",
    "Energy",
    "Local",
    "World",
    "Opinion",
    "Investigations",
    "Data",
    "Photography",
    "Weather",
    "Business",
    "Startups",
    "Open source",
    "Security",
    "Privacy",
    "Space",
];

const NAMES: &[&str] = &[
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Margaret Hamilton",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
    "John McCarthy",
    "Radia Perlman",
    "Ken Thompson",
    "Dennis Ritchie",
    "Hedy Lamarr",
    "Tim Berners-Lee",
    "Sophie Wilson",
    "Lynn Conway",
    "Niklaus Wirth",
    "Shafi Goldwasser",
    "Leslie Lamport",
];

/// A small, seeded xorshift generator: the same content on every run, no dependency.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut sentence: Vec<String> = (0..words).map(|_| self.word().to_string()).collect();
        if let Some(first) = sentence.first_mut() {
            let mut chars = first.chars();
            *first = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        }
        sentence.join(" ") + "."
    }

    fn paragraph(&mut self) -> String {
        let sentences = 3 + self.below(4);
        (0..sentences)
            .map(|_| {
                let words = 8 + self.below(12);
                self.sentence(words)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn markdown(rng: &mut Seeded, rare: bool) -> String {
    let mut body = vec![rng.paragraph(), rng.paragraph()];
    body.push(format!("## {}", rng.sentence(4).trim_end_matches('.')));
    body.push(format!(
        "{} *{}* and **{}**, as [the report](https://example.com/{}) put it.",
        rng.paragraph(),
        rng.word(),
        rng.word(),
        rng.word()
    ));
    body.push((0..4).map(|_| format!("- {}", rng.sentence(6))).collect::<Vec<_>>().join("\n"));
    for _ in 0..2 + rng.below(3) {
        body.push(rng.paragraph());
    }
    if rare {
        body.push(format!("> The {RARE_WORD} came in from the sea, {}", rng.sentence(6).to_lowercase()));
    }
    body.join("\n\n")
}

/// What was made.
pub struct DemoSummary {
    pub authors: usize,
    pub tags: usize,
    pub articles: usize,
}

/// Fills the database with `articles` published articles by 20 authors under 30 tags, calling
/// `progress` with the number written so far. Article slugs are `demo-<n>`, so a second run adds
/// nothing twice (it is refused by the unique slugs instead).
/// A short thread under one article: an approved comment with an approved reply, and a comment
/// still waiting for moderation, so that threads, counts and the moderation queue have content.
fn demo_comments(
    conn: &mut DbConnection,
    rng: &mut Seeded,
    article_id: i64,
    published: NaiveDateTime,
) -> Result<(), ApiError> {
    use crate::comments::model::{CommentStatus, NewComment};
    use crate::schema::comments;
    let mut parent = None;
    for (i, status) in
        [CommentStatus::Approved, CommentStatus::Approved, CommentStatus::Pending].into_iter().enumerate()
    {
        let name = NAMES[rng.below(NAMES.len())];
        let email = format!("reader.{}@example.com", name.to_lowercase().replace([' ', '-'], "."));
        let words = 6 + rng.below(10);
        let sentence = rng.sentence(words);
        let body = format!("{sentence} *{}*.", rng.word());
        let body_html = crate::comments::render::render_comment(&body);
        let at = published + Duration::hours(1 + i as i64);
        let id: i64 = diesel::insert_into(comments::table)
            .values(NewComment {
                article_id,
                parent_id: if i == 1 { parent } else { None },
                author_name: name,
                author_email: &email,
                author_id: None,
                body: &body,
                body_html: &body_html,
                status: status.as_str(),
                client_hash: None,
                created_at: at,
                updated_at: at,
            })
            .returning(comments::id)
            .get_result(conn)?;
        parent = parent.or(Some(id));
    }
    Ok(())
}

pub fn generate(
    conn: &mut DbConnection,
    articles_wanted: usize,
    password_params: &crate::settings::HashParams,
    mut progress: impl FnMut(usize),
) -> Result<DemoSummary, ApiError> {
    let mut rng = Seeded(0x5eed_1234_abcd_0042);
    let mut author_ids = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let email = format!("{}@demo.masthead", name.to_lowercase().replace([' ', '-'], "."));
        let existing: Option<i64> =
            authors::table.filter(authors::email.eq(&email)).select(authors::id).first(conn).optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                let role = if i == 0 { Role::Editor } else { Role::Author };
                let account =
                    NewAccount { email, name: name.to_string(), role, password: format!("demo-password-{i}") };
                crate::authors::store::create_account(conn, &account, password_params)?.id
            }
        };
        author_ids.push(id);
    }
    let mut tag_ids = Vec::new();
    // In chunks: the tag checks are made for one article's list.
    for chunk in TAGS.chunks(crate::tags::store::MAX_TAGS_PER_ARTICLE) {
        let names: Vec<String> = chunk.iter().map(|t| t.to_string()).collect();
        let mut v = crate::error::Validator::new();
        let checked = crate::tags::store::check_tag_names(&names, &mut v)?;
        v.finish()?;
        tag_ids.extend(write_transaction(conn, |conn| crate::tags::store::resolve(conn, &checked, true))?);
    }

    let start: NaiveDateTime = db::now() - Duration::days(5 * 365);
    let span_seconds = 5 * 365 * 86_400 - 3_600;
    let mut written = 0;
    while written < articles_wanted {
        let batch = BATCH.min(articles_wanted - written);
        write_transaction(conn, |conn| {
            for n in written..written + batch {
                let title_words = 4 + rng.below(5);
                let title = rng.sentence(title_words).trim_end_matches('.').to_string();
                let body = markdown(&mut rng, n % 100 == 42);
                let rendered = render(&body);
                // Spread evenly over five years, in the past, ordered by n.
                let published = start + Duration::seconds((n as i64 * span_seconds) / articles_wanted.max(1) as i64);
                let slug = format!("demo-{n}");
                let author = author_ids[rng.below(author_ids.len())];
                let first_tag = rng.below(tag_ids.len());
                let second_tag = (first_tag + 1 + rng.below(tag_ids.len() - 1)) % tag_ids.len();
                let article = ArticleContent {
                    slug: &slug,
                    title: &title,
                    excerpt: None,
                    body_markdown: &body,
                    rendered: &rendered,
                    published_at: Some(published),
                    featured: n % 20 == 0,
                    cover_image_url: None,
                    cover_image_alt: None,
                    cover_image_id: None,
                    seo_title: None,
                    seo_description: None,
                    canonical_url: None,
                    comments_enabled: true,
                    created_at: published,
                    authors: &[author],
                    tags: ArticleTags::Ids(&[tag_ids[first_tag], tag_ids[second_tag]]),
                };
                let id = insert_article(conn, &article)?.ok_or_else(|| {
                    ApiError::Conflict(format!("the slug {slug} is taken: the demo content is there already"))
                })?;
                if n % 10 == 3 {
                    demo_comments(conn, &mut rng, id, published)?;
                }
            }
            Ok(())
        })?;
        written += batch;
        progress(written);
    }
    // On PostgreSQL, fresh statistics and a visibility map for index-only scans, as autovacuum
    // would give a real site soon after a bulk load. SQLite is left unanalyzed, as a real site is:
    // measured here, its ANALYZE made the uncached tag-filter plan several times slower.
    if let DbConnection::Postgres(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("VACUUM ANALYZE articles, article_tags, article_authors, tags, authors")?;
    }
    let tag_count = tags::table.count().get_result::<i64>(conn)? as usize;
    Ok(DemoSummary { authors: author_ids.len(), tags: tag_count, articles: written })
}
