//! The roles table of docs/accounts.md, every role × action pair, on both backends.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use masthead::auth::Role;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, User, spawn};

backend_tests!(every_role_may_do_exactly_what_the_table_says, a_token_with_every_scope_may_do_what_its_owners_role_may);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    CreateDraft,
    ViewOwnDraft,
    ViewOthersDraft,
    EditOwnDraft,
    EditOwnPublished,
    EditOthersDraft,
    PublishOwnDraft,
    PublishOthersDraft,
    UnpublishOwn,
    TrashOwnDraft,
    TrashOwnPublished,
    TrashOthers,
    RestoreOwnFromTrash,
    DeleteOwnForGood,
    ReadOwnHistory,
    ReadOthersHistory,
    RestoreOwnRevision,
    UseANewTag,
    ListTags,
    CreateTag,
    RenameTag,
    DeleteTag,
    ListAuthors,
    ReadAnAuthor,
    CreateContributorAccount,
    CreateEditorAccount,
    DemoteAnAuthor,
    EditAnEditor,
    DeactivateAnAuthor,
    EditOwnProfile,
    ManageWebhooks,
    UploadMedia,
    ListMedia,
    ManageRedirects,
    ListRedirects,
    ExportEverything,
}

/// Expected statuses for contributor, author, editor, admin.
const TABLE: &[(Case, [u16; 4])] = &[
    (Case::CreateDraft, [201, 201, 201, 201]),
    (Case::ViewOwnDraft, [200, 200, 200, 200]),
    (Case::ViewOthersDraft, [404, 404, 200, 200]),
    (Case::EditOwnDraft, [200, 200, 200, 200]),
    (Case::EditOwnPublished, [403, 200, 200, 200]),
    (Case::EditOthersDraft, [404, 404, 200, 200]),
    (Case::PublishOwnDraft, [403, 200, 200, 200]),
    (Case::PublishOthersDraft, [404, 404, 200, 200]),
    (Case::UnpublishOwn, [403, 200, 200, 200]),
    (Case::TrashOwnDraft, [204, 204, 204, 204]),
    (Case::TrashOwnPublished, [403, 204, 204, 204]),
    (Case::TrashOthers, [404, 404, 204, 204]),
    (Case::RestoreOwnFromTrash, [200, 200, 200, 200]),
    (Case::DeleteOwnForGood, [403, 403, 204, 204]),
    (Case::ReadOwnHistory, [200, 200, 200, 200]),
    (Case::ReadOthersHistory, [404, 404, 200, 200]),
    (Case::RestoreOwnRevision, [200, 200, 200, 200]),
    (Case::UseANewTag, [422, 201, 201, 201]),
    (Case::ListTags, [200, 200, 200, 200]),
    (Case::CreateTag, [403, 201, 201, 201]),
    (Case::RenameTag, [403, 403, 200, 200]),
    (Case::DeleteTag, [403, 403, 204, 204]),
    (Case::ListAuthors, [403, 403, 200, 200]),
    (Case::ReadAnAuthor, [403, 403, 200, 200]),
    (Case::CreateContributorAccount, [403, 403, 201, 201]),
    (Case::CreateEditorAccount, [403, 403, 403, 201]),
    (Case::DemoteAnAuthor, [403, 403, 200, 200]),
    (Case::EditAnEditor, [403, 403, 403, 200]),
    (Case::DeactivateAnAuthor, [403, 403, 204, 204]),
    (Case::EditOwnProfile, [200, 200, 200, 200]),
    (Case::ManageWebhooks, [403, 403, 201, 201]),
    (Case::UploadMedia, [403, 201, 201, 201]),
    (Case::ListMedia, [200, 200, 200, 200]),
    (Case::ManageRedirects, [403, 403, 201, 201]),
    (Case::ListRedirects, [403, 403, 200, 200]),
    (Case::ExportEverything, [403, 403, 403, 200]),
];

/// The cases an integration token may never do, whatever its scopes: managing accounts and the
/// caller's own profile need a login.
const LOGIN_ONLY: &[Case] = &[
    Case::ListAuthors,
    Case::ReadAnAuthor,
    Case::CreateContributorAccount,
    Case::CreateEditorAccount,
    Case::DemoteAnAuthor,
    Case::EditAnEditor,
    Case::DeactivateAnAuthor,
    Case::EditOwnProfile,
    Case::ExportEverything,
];

async fn every_role_may_do_exactly_what_the_table_says(backend: Backend) {
    check_table(backend, false).await;
}

/// The same table with each actor calling through an integration token that holds every scope:
/// a token acts as its owner, so it may do what the owner's role allows, except what needs a login.
async fn a_token_with_every_scope_may_do_what_its_owners_role_may(backend: Backend) {
    check_table(backend, true).await;
}

async fn check_table(backend: Backend, through_tokens: bool) {
    let app = spawn(backend).await;
    let boss = app.user(Role::Admin, "Boss").await;
    let owner = app.user(Role::Author, "Owner").await;
    let mut actors = [
        app.user(Role::Contributor, "Cora").await,
        app.user(Role::Author, "Arthur").await,
        app.user(Role::Editor, "Eddie").await,
        app.user(Role::Admin, "Ada").await,
    ];
    if through_tokens {
        let every_scope = json!(masthead::auth::scopes::Scope::ALL.map(|scope| scope.as_str()));
        for actor in &mut actors {
            let made = app.post_as(actor, "/api/v1/admin/tokens", json!({"name": "all", "scopes": every_scope})).await;
            made.assert_status(201);
            actor.token = made.json()["data"]["token"].as_str().unwrap().to_string();
        }
    }
    let mut mismatches = Vec::new();
    let mut serial = 0;
    for (case, expected) in TABLE {
        for (actor, expected) in actors.iter().zip(expected) {
            serial += 1;
            let expected = if through_tokens && LOGIN_ONLY.contains(case) { 403 } else { *expected };
            let fixture = Fixture { app: &app, boss: &boss, owner: &owner, actor, serial };
            let got = fixture.perform(*case).await;
            if got != expected {
                mismatches.push(format!("{case:?} as {}: expected {expected}, got {got}", actor.email));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

struct Fixture<'a, S> {
    app: &'a TestApp<S>,
    boss: &'a User,
    owner: &'a User,
    actor: &'a User,
    serial: u32,
}

impl<S, B> Fixture<'_, S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// A fresh draft written by `writer`; returns its editor path.
    async fn draft_of(&self, writer: &User) -> String {
        let article =
            self.app.draft(writer, json!({"title": format!("Case {}", self.serial), "body_markdown": "x"})).await;
        format!("/api/v1/admin/articles/{}", article["id"])
    }

    /// A fresh article of `writer`, published by the admin (contributors cannot).
    async fn published_of(&self, writer: &User) -> String {
        let path = self.draft_of(writer).await;
        self.app.post_as(self.boss, &format!("{path}/publish"), Value::Null).await.assert_status(200);
        path
    }

    async fn account(&self, role: &str) -> String {
        let email = format!("target{}@example.com", self.serial);
        let created = self
            .app
            .post_as(
                self.boss,
                "/api/v1/admin/authors",
                json!({"name": email, "email": email, "password": "long enough", "role": role}),
            )
            .await;
        created.assert_status(201);
        format!("/api/v1/admin/authors/{}", created.json()["data"]["id"])
    }

    async fn tag(&self) -> String {
        let created =
            self.app.post_as(self.boss, "/api/v1/admin/tags", json!({"name": format!("tag {}", self.serial)})).await;
        created.assert_status(201);
        format!("/api/v1/admin/tags/{}", created.json()["data"]["id"])
    }

    async fn perform(&self, case: Case) -> u16 {
        let (app, actor) = (self.app, self.actor);
        let response = match case {
            Case::CreateDraft => {
                app.post_as(actor, "/api/v1/admin/articles", json!({"title": "New", "body_markdown": ""})).await
            }
            Case::ViewOwnDraft => app.get_as(actor, &self.draft_of(actor).await).await,
            Case::ViewOthersDraft => app.get_as(actor, &self.draft_of(self.owner).await).await,
            Case::EditOwnDraft => app.patch_as(actor, &self.draft_of(actor).await, json!({"title": "Edited"})).await,
            Case::EditOwnPublished => {
                app.patch_as(actor, &self.published_of(actor).await, json!({"title": "Edited"})).await
            }
            Case::EditOthersDraft => {
                app.patch_as(actor, &self.draft_of(self.owner).await, json!({"title": "Edited"})).await
            }
            Case::PublishOwnDraft => {
                app.post_as(actor, &format!("{}/publish", self.draft_of(actor).await), Value::Null).await
            }
            Case::PublishOthersDraft => {
                app.post_as(actor, &format!("{}/publish", self.draft_of(self.owner).await), Value::Null).await
            }
            Case::UnpublishOwn => {
                app.post_as(actor, &format!("{}/unpublish", self.published_of(actor).await), Value::Null).await
            }
            Case::TrashOwnDraft => app.delete_as(actor, &self.draft_of(actor).await).await,
            Case::TrashOwnPublished => app.delete_as(actor, &self.published_of(actor).await).await,
            Case::TrashOthers => app.delete_as(actor, &self.draft_of(self.owner).await).await,
            Case::RestoreOwnFromTrash => {
                let path = self.draft_of(actor).await;
                app.delete_as(self.boss, &path).await.assert_status(204);
                app.post_as(actor, &format!("{path}/restore"), Value::Null).await
            }
            Case::DeleteOwnForGood => {
                app.delete_as(actor, &format!("{}?permanent=true", self.draft_of(actor).await)).await
            }
            Case::ReadOwnHistory => app.get_as(actor, &format!("{}/revisions", self.draft_of(actor).await)).await,
            Case::ReadOthersHistory => {
                app.get_as(actor, &format!("{}/revisions", self.draft_of(self.owner).await)).await
            }
            Case::RestoreOwnRevision => {
                let path = self.draft_of(actor).await;
                app.patch_as(actor, &path, json!({"title": "Second"})).await.assert_status(200);
                app.post_as(actor, &format!("{path}/revisions/1/restore"), Value::Null).await
            }
            Case::UseANewTag => {
                let body = json!({"title": "Tagged", "body_markdown": "", "tags": [format!("fresh {}", self.serial)]});
                app.post_as(actor, "/api/v1/admin/articles", body).await
            }
            Case::ListTags => app.get_as(actor, "/api/v1/admin/tags").await,
            Case::CreateTag => {
                app.post_as(actor, "/api/v1/admin/tags", json!({"name": format!("created {}", self.serial)})).await
            }
            Case::RenameTag => {
                app.patch_as(actor, &self.tag().await, json!({"name": format!("renamed {}", self.serial)})).await
            }
            Case::DeleteTag => app.delete_as(actor, &self.tag().await).await,
            Case::ListAuthors => app.get_as(actor, "/api/v1/admin/authors").await,
            Case::ReadAnAuthor => app.get_as(actor, &self.account("author").await).await,
            Case::CreateContributorAccount | Case::CreateEditorAccount => {
                let role = if matches!(case, Case::CreateEditorAccount) { "editor" } else { "contributor" };
                let email = format!("made{}@example.com", self.serial);
                let body = json!({"name": "Made", "email": email, "password": "long enough", "role": role});
                app.post_as(actor, "/api/v1/admin/authors", body).await
            }
            Case::DemoteAnAuthor => {
                app.patch_as(actor, &self.account("author").await, json!({"role": "contributor"})).await
            }
            Case::EditAnEditor => app.patch_as(actor, &self.account("editor").await, json!({"bio": "edited"})).await,
            Case::DeactivateAnAuthor => app.delete_as(actor, &self.account("author").await).await,
            Case::EditOwnProfile => {
                app.patch_as(actor, "/api/v1/auth/me", json!({"bio": format!("bio {}", self.serial)})).await
            }
            Case::ManageWebhooks => {
                let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["article.published"]});
                app.post_as(actor, "/api/v1/admin/webhooks", body).await
            }
            Case::UploadMedia => app.upload_as(actor, &[("file", Some("p.png"), &crate::media_files::png(4, 4))]).await,
            Case::ListMedia => app.get_as(actor, "/api/v1/admin/media").await,
            Case::ManageRedirects => {
                let body = json!({"from": format!("/old/{}", self.serial), "to": {"path": "/new"}});
                app.post_as(actor, "/api/v1/admin/redirects", body).await
            }
            Case::ListRedirects => app.get_as(actor, "/api/v1/admin/redirects").await,
            Case::ExportEverything => app.get_as(actor, "/api/v1/admin/export").await,
        };
        if response.status.is_client_error() {
            response.assert_problem(response.status.as_u16());
        }
        response.status.as_u16()
    }
}
