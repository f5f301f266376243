// A front end's and an editor's day with Masthead, through a client typed from the OpenAPI
// document (openapi-typescript + openapi-fetch): log in, upload a cover image, write a tagged draft
// with it, publish it, read it as a reader (with the cover's srcset), comment on it, moderate the
// comment, and see it in the public thread.
//
//   MASTHEAD_URL=http://127.0.0.1:8080 MASTHEAD_EMAIL=… MASTHEAD_PASSWORD=… node dist/flow.js
//
// Every call is checked against the document at compile time (`tsc --noEmit`): a path, parameter,
// body field or response field that drifts from openapi/openapi.json breaks the build.

import { deflateSync, crc32 } from "node:zlib";

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

/** A `width` × `height` PNG of a gradient, made here (no image library needed). */
function png(width: number, height: number): Uint8Array<ArrayBuffer> {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rows.set([Math.floor((x * 255) / width), Math.floor((y * 255) / height), 160], y * (width * 3 + 1) + 1 + x * 3);
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const file = Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
  return new Uint8Array(file);
}

const api = createClient<paths>({ baseUrl });

// An editor logs in.
const tokens = check("log in", await api.POST("/api/v1/auth/login", { body: { email, password } }));
const editor = { Authorization: `Bearer ${tokens.access_token}` };

// A cover image, uploaded as multipart/form-data: the typed body names the fields, the serializer
// puts the bytes in the form (fetch sets its boundary).
const image = png(800, 450);
const uploaded = check(
  "upload a cover image",
  await api.POST("/api/v1/admin/media", {
    headers: editor,
    body: { file: "cover.png", alt: "A warm gradient" },
    bodySerializer(body) {
      const form = new FormData();
      form.append("file", new Blob([image], { type: "image/png" }), body.file);
      form.append("alt", body.alt ?? "");
      return form;
    },
  }),
).data;
expect(uploaded.mime_type === "image/png" && uploaded.width === 800, "an 800-pixel PNG in the library");
expect(uploaded.variants.map((variant) => variant.width).join(",") === "320,640", "variants narrower than it");

// A tagged draft with that cover, then published.
const suffix = Date.now().toString(36);
const draft = check(
  "create a tagged draft",
  await api.POST("/api/v1/admin/articles", {
    headers: editor,
    body: {
      title: `Typed clients ${suffix}`,
      body_markdown: "Generated from the **OpenAPI** document.",
      tags: ["TypeScript", "OpenAPI"],
      cover_image_id: uploaded.id,
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
expect(article.cover_image?.alt === "A warm gradient" && article.cover_image.srcset.includes(" 640w"), "its cover's srcset");
const smallest = uploaded.variants[0];
if (smallest === undefined) {
  throw new Error("expected a variant");
}
const variant = await fetch(smallest.webp_url);
expect(variant.ok && variant.headers.get("content-type") === "image/webp", "the cover's 320-pixel WebP");
expect(variant.headers.get("cache-control")?.includes("immutable") === true, "an immutable variant");
console.log(`ok  fetch the cover's WebP variant (HTTP ${variant.status}, ${(await variant.arrayBuffer()).byteLength} bytes)`);
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
