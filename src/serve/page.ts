/**
 * The web page, embedded in the program (a `bun build --compile` binary carries these files as
 * text): nothing is fetched from elsewhere. Its own Content-Security-Policy allows only scripts,
 * styles and requests from this server.
 */
import html from "./page/index.html" with { type: "text" };
// @ts-ignore: imported as text (Bun's import attribute), not as a module
import css from "./page/app.css" with { type: "text" };
// @ts-ignore: imported as text (Bun's import attribute), not as a module
import js from "./page/app.js" with { type: "text" };
import { BASE_HEADERS } from "./http.ts";

const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' blob:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const asset = (body: string, type: string) => () => new Response(body, { headers: { ...BASE_HEADERS, "Content-Type": type, "Content-Security-Policy": PAGE_CSP } });

/** The page's files by path. */
export const PAGE_ASSETS: Record<string, () => Response> = {
  "/": asset(html as unknown as string, "text/html; charset=utf-8"),
  "/app.js": asset(js as unknown as string, "text/javascript; charset=utf-8"),
  "/app.css": asset(css as unknown as string, "text/css; charset=utf-8"),
};
