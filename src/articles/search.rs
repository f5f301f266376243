//! Full-text search over published articles, in the SQL of the backend in use (the one place
//! where it differs): SQLite's FTS5 index `article_search`, PostgreSQL's `tsvector` column.
//!
//! What a search may cost is bounded before it runs: at most [`MAX_SEARCH_WORDS`] distinct words
//! (`listing::search_words`), ranking in a single pass over the matches (on SQLite a ranking
//! function evaluated per row in a query of its own recomputed the index statistics every time,
//! so ranking 10,000 matches took seconds), the expensive lane of the pool (`Db::run_expensive`)
//! and the query time budget.

use std::collections::HashSet;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Text};

use crate::db::{DbBackend, DbConnection, DbKind};
use crate::error::ApiError;

/// Most distinct words a search looks for; more are ignored (see `listing::search_words`).
pub const MAX_SEARCH_WORDS: usize = 10;

/// A full-text search: every word must match.
#[derive(Debug, Clone)]
pub struct Search {
    kind: DbKind,
    words: Vec<String>,
}

impl Search {
    pub fn new(kind: DbKind, words: &[String]) -> Self {
        Self { kind, words: words.to_vec() }
    }

    /// The engine's query text. Words are letters and digits only (see `listing::search_words`),
    /// so no query syntax of either engine can be injected.
    fn query_text(&self) -> String {
        match self.kind {
            DbKind::Sqlite => self.words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" "),
            DbKind::Postgres => self.words.join(" "),
        }
    }

    /// The filter of matching articles, for a query on `articles`.
    pub fn matches(
        &self,
    ) -> diesel::expression::SqlLiteral<Bool, impl diesel::query_builder::QueryFragment<DbBackend> + Send + 'static>
    {
        let (before, after) = match self.kind {
            DbKind::Sqlite => ("articles.id IN (SELECT rowid FROM article_search WHERE article_search MATCH ", ")"),
            DbKind::Postgres => ("articles.search @@ plainto_tsquery('masthead_search', ", ")"),
        };
        sql::<Bool>(before).bind::<Text, _>(self.query_text()).sql(after)
    }

    /// Whether best-first pages come from [`Search::best_first`] rather than from an `ORDER BY` on
    /// the articles query.
    pub fn ranks_separately(&self) -> bool {
        self.kind == DbKind::Sqlite
    }

    /// PostgreSQL's best-first order on an `articles` query: an ascending key (the rank negated),
    /// computed once per matching row from its stored `tsvector`.
    pub fn rank(
        &self,
    ) -> diesel::expression::SqlLiteral<Double, impl diesel::query_builder::QueryFragment<DbBackend> + Send + 'static>
    {
        sql::<Double>("-ts_rank(articles.search, plainto_tsquery('masthead_search', ")
            .bind::<Text, _>(self.query_text())
            .sql("))")
    }

    /// SQLite: the ids of one page of matches among `candidates`, best first: `bm25` with the
    /// title counting most, then the excerpt, then the body. Ranked in one FTS5 query, which
    /// computes the index statistics once for all its rows (ranking in the articles query would
    /// run a query, and compute them again, for every row).
    pub fn best_first(
        &self,
        conn: &mut DbConnection,
        candidates: &HashSet<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<i64>, ApiError> {
        #[derive(QueryableByName)]
        struct Match {
            #[diesel(sql_type = BigInt)]
            rowid: i64,
        }
        let DbConnection::Sqlite(sqlite) = conn else {
            return Err(ApiError::Internal("FTS5 ranking asked of PostgreSQL".into()));
        };
        let ranked = diesel::sql_query(
            "SELECT rowid FROM article_search WHERE article_search MATCH ? \
             ORDER BY bm25(article_search, 10.0, 4.0, 1.0), rowid",
        )
        .bind::<Text, _>(self.query_text())
        .load::<Match>(sqlite)?;
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(0);
        Ok(ranked.into_iter().map(|m| m.rowid).filter(|id| candidates.contains(id)).skip(offset).take(limit).collect())
    }
}
