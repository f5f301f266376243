// A front end's and an editor's day with Masthead, through a client typed from the OpenAPI
// document (openapi-typescript + openapi-fetch): log in, write a tagged draft, publish it, read it
// as a reader, comment on it, moderate the comment, and see it in the public thread.
//
//   MASTHEAD_URL=http://127.0.0.1:8080 MASTHEAD_EMAIL=… MASTHEAD_PASSWORD=… node dist/flow.js
//
// Every call is checked against the document at compile time (`tsc --noEmit`): a path, parameter,
// body field or response field that drifts from openapi/openapi.json breaks the build.

import createClient from "openapi-fetch";
import type { paths } from "./api.js";

const baseUrl = process.env.MASTHEAD_URL ?? "http://127.0.0.1:8080";
const email = required("MASTHEAD_EMAIL");
const password = required("MASTHEAD_PASSWORD");

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

/** Fails the flow with what the server said. */
function check<T>(step: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${step}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  console.log(`ok  ${step} (HTTP ${result.response.status})`);
  return result.data;
}

function expect(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`expected ${what}`);
  }
}

const api = createClient<paths>({ baseUrl });

// An editor logs in.
const tokens = check("log in", await api.POST("/api/v1/auth/login", { body: { email, password } }));
const editor = { Authorization: `Bearer ${tokens.access_token}` };

// A tagged draft, then published.
const suffix = Date.now().toString(36);
const draft = check(
  "create a tagged draft",
  await api.POST("/api/v1/admin/articles", {
    headers: editor,
    body: {
      title: `Typed clients ${suffix}`,
      body_markdown: "Generated from the **OpenAPI** document.",
      tags: ["TypeScript", "OpenAPI"],
    },
  }),
).data;
expect(draft.status === "draft", "a draft");
const published = check(
  "publish it",
  await api.POST("/api/v1/admin/articles/{id}/publish", {
    headers: { ...editor, "If-Match": `"v${draft.version}"` },
    params: { path: { id: draft.id } },
  }),
).data;
expect(published.status === "published", "a published article");

// A reader's front end reads it: no credentials.
const article = check(
  "read it publicly",
  await api.GET("/api/v1/articles/{slug}", { params: { path: { slug: draft.slug } } }),
).data;
expect(article.tags.map((tag) => tag.slug).join(",") === "typescript,openapi", "its tags, in order");
expect(article.body_html.includes("<strong>OpenAPI</strong>"), "its HTML body");
const listed = check("find it in the list", await api.GET("/api/v1/articles", { params: { query: { tag: "typescript" } } }));
expect(listed.data.some((item) => item.slug === draft.slug), "it in the tag's list");

// A reader comments; it waits for moderation.
const receipt = check(
  "post a comment",
  await api.POST("/api/v1/articles/{slug}/comments", {
    params: { path: { slug: draft.slug } },
    body: { author_name: "Grace", author_email: `grace-${suffix}@example.com`, body: "Typed *all* the way." },
  }),
).data;
expect(receipt.status === "pending", "a pending comment");

// The editor approves it.
const moderated = check(
  "approve it",
  await api.PATCH("/api/v1/admin/comments/{id}", {
    headers: editor,
    params: { path: { id: receipt.id } },
    body: { status: "approved" },
  }),
).data;
expect(moderated.status === "approved", "an approved comment");

// The public thread shows it, and the article counts it.
const thread = check(
  "read the thread",
  await api.GET("/api/v1/articles/{slug}/comments", { params: { path: { slug: draft.slug } } }),
);
expect(thread.data.some((comment) => comment.id === receipt.id && comment.body_html?.includes("<em>all</em>") === true), "the comment in the thread");
const recounted = check(
  "read the comment count",
  await api.GET("/api/v1/articles/{slug}", { params: { path: { slug: draft.slug } } }),
).data;
expect(recounted.comment_count === 1, "one comment counted");

console.log("the typed flow passed");
