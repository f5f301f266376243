//! Diesel's view of the tables in `migrations/`. Written by hand in portable SQL types only
//! (BigInt, Integer, Text, Bool, Timestamp), the set that `MultiConnection` supports on both backends;
//! a test runs the migrations on each backend, so a drift between this file and them fails there.

diesel::table! {
    authors (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        email -> Nullable<Text>,
        bio -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        role -> Text,
        password_hash -> Nullable<Text>,
        active -> Bool,
        password_changed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        title_key -> Text,
        excerpt -> Nullable<Text>,
        derived_excerpt -> Text,
        body_markdown -> Text,
        body_html -> Text,
        body_text -> Text,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        featured -> Bool,
        cover_image_url -> Nullable<Text>,
        cover_image_alt -> Nullable<Text>,
        seo_title -> Nullable<Text>,
        seo_description -> Nullable<Text>,
        canonical_url -> Nullable<Text>,
        comments_enabled -> Bool,
        comments_changed_at -> Nullable<Timestamp>,
        word_count -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        publication_announced -> Bool,
        cover_image_id -> Nullable<BigInt>,
        public_slug -> Nullable<Text>,
    }
}

diesel::table! {
    media (id) {
        id -> BigInt,
        storage_key -> Text,
        content_hash -> Text,
        format -> Text,
        filename -> Text,
        size_bytes -> BigInt,
        width -> Integer,
        height -> Integer,
        animated -> Bool,
        alt -> Nullable<Text>,
        caption -> Nullable<Text>,
        focal_x -> Double,
        focal_y -> Double,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    redirects (id) {
        id -> BigInt,
        from_slug -> Nullable<Text>,
        from_path -> Nullable<Text>,
        article_id -> Nullable<BigInt>,
        to_path -> Nullable<Text>,
        status -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    import_sources (source, kind, source_id) {
        source -> Text,
        kind -> Text,
        source_id -> Text,
        local_id -> BigInt,
        imported_at -> Timestamp,
        source_version -> Nullable<Text>,
    }
}

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> BigInt,
        author_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> BigInt,
        tag_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> BigInt,
        article_id -> BigInt,
        number -> Integer,
        title -> Text,
        excerpt -> Nullable<Text>,
        body_markdown -> Text,
        tags_snapshot -> Text,
        authors_snapshot -> Text,
        editor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        changes -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        throttle_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        article_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        author_name -> Text,
        author_email -> Text,
        author_id -> Nullable<BigInt>,
        body -> Text,
        body_html -> Text,
        status -> Text,
        client_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        author_id -> BigInt,
        family_id -> Text,
        token_hash -> Text,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    integration_tokens (id) {
        id -> BigInt,
        owner_id -> BigInt,
        name -> Text,
        scopes -> Text,
        token_hash -> Text,
        token_prefix -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        created_by -> Nullable<BigInt>,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> BigInt,
        message_id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        latency_ms -> Nullable<Integer>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(articles -> media (cover_image_id));
diesel::joinable!(media -> authors (uploaded_by));
diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(article_revisions -> authors (editor_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(redirects -> articles (article_id));
diesel::joinable!(refresh_tokens -> authors (author_id));
diesel::joinable!(integration_tokens -> authors (owner_id));
diesel::joinable!(webhooks -> authors (created_by));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    authors,
    articles,
    article_authors,
    tags,
    article_tags,
    article_revisions,
    comments,
    refresh_tokens,
    login_failures,
    integration_tokens,
    webhooks,
    webhook_events,
    webhook_deliveries,
    media,
    redirects,
    import_sources,
);
