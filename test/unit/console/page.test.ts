import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consolePage, CONTENT_SECURITY_POLICY, PAGE_CONTENT_TYPE, PAGE_HEADERS } from "../../../lib/console/page.ts";

const html = consolePage();
const inline = (tag: "script" | "style"): string[] => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1] ?? "");
const hash = (text: string): string => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

describe("the status page document", () => {
  it("allows exactly its own inline script and style by hash, and connections to its own origin only", () => {
    const [script] = inline("script");
    const [style] = inline("style");
    expect(inline("script")).toHaveLength(1);
    expect(inline("style")).toHaveLength(1);
    const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    expect(directives).toMatchObject({
      "default-src": "'none'",
      "script-src": hash(script ?? ""),
      "style-src": hash(style ?? ""),
      "connect-src": "'self'",
      "frame-ancestors": "'none'",
    });
  });

  it("fetches nothing from elsewhere: no external URL, no external script, style or image", () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).not.toContain("<script src");
  });

  it("builds every element from the data with textContent, never markup", () => {
    const [script] = inline("script");
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    // The data comes from this page's own path: /v1/console -> /v1/console/data.
    expect(script).toContain('location.pathname.replace(/\\/+$/, "") + "/data"');
  });

  it("is never cached, framed or sniffed", () => {
    expect(PAGE_CONTENT_TYPE).toBe("text/html; charset=utf-8");
    expect(PAGE_HEADERS).toMatchObject({
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "content-security-policy": CONTENT_SECURITY_POLICY,
    });
  });
});
