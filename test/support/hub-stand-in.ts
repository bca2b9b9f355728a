/**
 * A stand-in for Docker Hub's web API (there is no internet here), serving exactly the response
 * shapes written down in docs/docker-hub.md (from /work/shared/design/FACTS.md, "Wave 3 facts"):
 *
 *   GET /v2/search/repositories/?query=Q&page=P&page_size=N
 *       → {count, next, previous, results: [{repo_name, short_description, star_count, pull_count,
 *          repo_owner, is_automated, is_official}]}
 *   GET /v2/namespaces/NS/repositories?page_size=N[&page=P]   (older: /v2/repositories/NS/)
 *       → {count, next, previous, results: [{name, namespace, description, star_count, pull_count,
 *          last_updated, is_private}]}
 *   GET /v2/namespaces/NS/repositories/REPO/tags?page_size=N&ordering=last_updated
 *       (older: /v2/repositories/NS/REPO/tags/)
 *       → {count, next, previous, results: [{name, full_size, last_updated, tag_last_pushed, digest,
 *          images: [{architecture, os, variant, digest, size, last_pushed}]}]}
 *   GET /v1/search?q=Q&n=N  (the registry search protocol, for a registry that answers it)
 *       → {query, num_results, results: [{name, description, star_count, is_official, is_automated}]}
 *   GET /v2/  → 200 {} (so the registry client's ping finds a registry)
 *
 * `next` is an absolute URL on the stand-in itself, as Docker Hub's are. Faults a real Docker Hub
 * shows now and then (429 with Retry-After, an HTML page, missing fields, a `next` elsewhere) are
 * set per test with `fault` (a whole answer) or `rewrite` (the JSON document before it is sent).
 */

export interface StandInRepository {
  namespace: string;
  name: string;
  description?: string;
  star_count?: number;
  pull_count?: number;
  last_updated?: string;
  is_official?: boolean;
  is_private?: boolean;
  tags?: Record<string, unknown>[];
}

export interface HubStandIn {
  url: string;
  host: string;
  /** Every request's path and query, in order. */
  requests: string[];
  repositories: StandInRepository[];
  /** An answer that replaces the normal one (n counts requests from 0). */
  fault: ((url: URL, n: number) => Response | undefined) | undefined;
  /** Changes a JSON document before it is sent. */
  rewrite: ((doc: Record<string, unknown>, url: URL) => Record<string, unknown>) | undefined;
  /** The most results a page holds, whatever page_size asks (Docker Hub's is 100). */
  pageSizeCap: number;
  /** Serve only the older paths (/v2/repositories/…): the newer ones answer 404. */
  olderPathsOnly: boolean;
  stop(): void;
}

const sha = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

function image(os: string, architecture: string, variant: string | undefined, digestChar: string, size: number, pushed: string): Record<string, unknown> {
  return { architecture, os, ...(variant ? { variant } : {}), digest: sha(digestChar), size, status: "active", last_pushed: pushed, last_pulled: pushed };
}

function tag(name: string, pushed: string, digestChar: string, images: Record<string, unknown>[]): Record<string, unknown> {
  const full_size = images.reduce((n, i) => n + (i.size as number), 0);
  return {
    creator: 1,
    id: 1,
    images,
    last_updated: pushed,
    last_updater: 1,
    last_updater_username: "someone",
    name,
    repository: 1,
    full_size,
    v2: true,
    tag_status: "active",
    tag_last_pulled: pushed,
    tag_last_pushed: pushed,
    media_type: "application/vnd.oci.image.index.v1+json",
    content_type: "image",
    digest: sha(digestChar),
  };
}

/** The repositories the stand-in starts with (tests may add more). */
export function seedRepositories(): StandInRepository[] {
  const alpineTags = [
    tag("3.19", "2024-01-27T00:51:00Z", "1", [
      image("linux", "amd64", undefined, "a", 3_400_000, "2024-01-27T00:51:00Z"),
      image("linux", "arm64", "v8", "b", 3_300_000, "2024-01-27T00:51:00Z"),
    ]),
    tag("3.20", "2024-06-20T17:32:00Z", "2", [
      image("linux", "amd64", undefined, "c", 3_600_000, "2024-06-20T17:32:00Z"),
      image("linux", "arm64", "v8", "d", 3_500_000, "2024-06-20T17:32:00Z"),
      image("linux", "arm", "v7", "e", 3_100_000, "2024-06-20T17:32:00Z"),
    ]),
    tag("latest", "2024-06-20T17:33:00Z", "2", [
      image("linux", "amd64", undefined, "c", 3_600_000, "2024-06-20T17:32:00Z"),
      image("linux", "arm64", "v8", "d", 3_500_000, "2024-06-20T17:32:00Z"),
      image("linux", "arm", "v7", "e", 3_100_000, "2024-06-20T17:32:00Z"),
    ]),
    tag("edge", "2024-03-02T09:00:00Z", "3", [image("linux", "amd64", undefined, "f", 3_700_000, "2024-03-02T09:00:00Z")]),
  ];
  const repos: StandInRepository[] = [
    {
      namespace: "library",
      name: "alpine",
      description: "A minimal Docker image based on Alpine Linux with a complete package index",
      star_count: 11_000,
      pull_count: 7_000_000_000,
      last_updated: "2024-06-20T17:33:00Z",
      is_official: true,
      tags: alpineTags,
    },
    {
      namespace: "library",
      name: "nginx",
      description: "Official build of Nginx.",
      star_count: 20_000,
      pull_count: 9_000_000_000,
      last_updated: "2024-05-30T10:00:00Z",
      is_official: true,
      tags: [],
    },
    {
      namespace: "library",
      name: "busybox",
      description: "Busybox base image.",
      star_count: 3_000,
      pull_count: 5_000_000_000,
      last_updated: "2024-02-10T10:00:00Z",
      is_official: true,
      tags: [],
    },
    {
      namespace: "bitnami",
      name: "nginx",
      description: "Bitnami container image for NGINX",
      star_count: 190,
      pull_count: 800_000_000,
      last_updated: "2024-06-25T08:00:00Z",
      tags: [],
    },
    {
      namespace: "bitnami",
      name: "redis",
      description: "Bitnami container image for Redis",
      star_count: 300,
      pull_count: 900_000_000,
      last_updated: "2024-06-24T08:00:00Z",
      tags: [],
    },
    {
      namespace: "bitnami",
      name: "postgresql",
      description: "Bitnami container image for PostgreSQL",
      star_count: 250,
      pull_count: 600_000_000,
      last_updated: "2023-12-01T08:00:00Z",
      tags: [],
    },
    {
      namespace: "mallory",
      name: "nginx-proxy",
      description: "\x1b[2J\x1b]0;owned\x07 nginx\nproxy \u202e with a very long description that goes on and on and on to fill the terminal",
      star_count: 1,
      pull_count: 12,
      last_updated: "2020-01-01T00:00:00Z",
      tags: [],
    },
  ];
  // A namespace with enough repositories (and one with enough tags) for several pages.
  for (let i = 0; i < 45; i++) {
    const tags =
      i === 0
        ? Array.from({ length: 30 }, (_, t) =>
            tag(`v${t}`, new Date(Date.UTC(2024, 0, 1 + t)).toISOString(), String(t % 10), [
              image("linux", "amd64", undefined, String(t % 10), 1000 + t, new Date(Date.UTC(2024, 0, 1 + t)).toISOString()),
            ]),
          )
        : [];
    repos.push({
      namespace: "many",
      name: `app-${String(i).padStart(2, "0")}`,
      description: `widget app number ${i}`,
      star_count: i,
      pull_count: 1000 * i,
      last_updated: new Date(Date.UTC(2023, 0, 1 + i)).toISOString(),
      tags,
    });
  }
  return repos;
}

function page<T>(items: T[], url: URL, pageSize: number): { count: number; next: string | null; previous: string | null; results: T[] } {
  const p = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1);
  const start = (p - 1) * pageSize;
  const link = (n: number) => {
    const u = new URL(url.href);
    u.searchParams.set("page", String(n));
    return u.href;
  };
  return {
    count: items.length,
    next: start + pageSize < items.length ? link(p + 1) : null,
    previous: p > 1 ? link(p - 1) : null,
    results: items.slice(start, start + pageSize),
  };
}

const notFound = () => Response.json({ message: "object not found", errinfo: {} }, { status: 404 });

export function startHubStandIn(): HubStandIn {
  const stand: HubStandIn = {
    url: "",
    host: "",
    requests: [],
    repositories: seedRepositories(),
    fault: undefined,
    rewrite: undefined,
    olderPathsOnly: false,
    pageSizeCap: 100,
    stop: () => server.stop(true),
  };
  const send = (doc: Record<string, unknown>, url: URL) => Response.json(stand.rewrite ? stand.rewrite(doc, url) : doc);
  const find = (ns: string, name: string) => stand.repositories.find((r) => r.namespace === ns && r.name === name);

  function search(url: URL): Response {
    const q = (url.searchParams.get("query") ?? "").toLowerCase();
    const size = Math.min(stand.pageSizeCap, Number(url.searchParams.get("page_size") ?? "25") || 25);
    const hits = stand.repositories
      .filter((r) => !r.is_private && `${r.namespace}/${r.name} ${r.description ?? ""}`.toLowerCase().includes(q))
      .map((r) => ({
        repo_name: r.is_official ? r.name : `${r.namespace}/${r.name}`,
        short_description: r.description ?? "",
        star_count: r.star_count ?? 0,
        pull_count: r.pull_count ?? 0,
        repo_owner: "",
        is_automated: false,
        is_official: !!r.is_official,
      }));
    return send(page(hits, url, size), url);
  }

  function repositories(ns: string, url: URL): Response {
    const mine = stand.repositories.filter((r) => r.namespace === ns);
    if (mine.length === 0) return notFound();
    const size = Math.min(stand.pageSizeCap, Number(url.searchParams.get("page_size") ?? "10") || 10);
    const rows = mine.map((r) => ({
      name: r.name,
      namespace: r.namespace,
      repository_type: "image",
      status: 1,
      description: r.description ?? "",
      is_private: !!r.is_private,
      star_count: r.star_count ?? 0,
      pull_count: r.pull_count ?? 0,
      last_updated: r.last_updated ?? null,
      date_registered: "2015-01-01T00:00:00Z",
      affiliation: "",
      media_types: ["application/vnd.oci.image.index.v1+json"],
      content_types: ["image"],
    }));
    return send(page(rows, url, size), url);
  }

  function tags(ns: string, name: string, url: URL): Response {
    const repo = find(ns, name);
    if (!repo) return notFound();
    const size = Math.min(stand.pageSizeCap, Number(url.searchParams.get("page_size") ?? "10") || 10);
    let rows = [...(repo.tags ?? [])];
    if (url.searchParams.get("ordering") === "last_updated") rows.sort((a, b) => String(b.last_updated).localeCompare(String(a.last_updated)));
    return send(page(rows, url, size), url);
  }

  function v1search(url: URL): Response {
    const q = (url.searchParams.get("q") ?? "").toLowerCase();
    const n = Math.min(100, Number(url.searchParams.get("n") ?? "25") || 25);
    const results = stand.repositories
      .filter((r) => `${r.namespace}/${r.name}`.includes(q))
      .slice(0, n)
      .map((r) => ({ name: `${r.namespace}/${r.name}`, description: r.description ?? "", star_count: r.star_count ?? 0, is_official: !!r.is_official, is_automated: false }));
    return send({ query: q, num_results: results.length, results }, url);
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const n = stand.requests.length;
      stand.requests.push(`${url.pathname}${url.search}`);
      const faulty = stand.fault?.(url, n);
      if (faulty) return faulty;
      const path = url.pathname;
      let m: RegExpExecArray | null;
      if (path === "/v2/" || path === "/v2") return Response.json({});
      if (path === "/v1/search") return v1search(url);
      if (path === "/v2/search/repositories/" || path === "/v2/search/repositories") return search(url);
      if (!stand.olderPathsOnly && (m = /^\/v2\/namespaces\/([^/]+)\/repositories\/?$/.exec(path))) return repositories(m[1]!, url);
      if (!stand.olderPathsOnly && (m = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/?$/.exec(path))) return tags(m[1]!, m[2]!, url);
      if ((m = /^\/v2\/repositories\/([^/]+)\/?$/.exec(path))) return repositories(m[1]!, url);
      if ((m = /^\/v2\/repositories\/([^/]+)\/([^/]+)\/tags\/?$/.exec(path))) return tags(m[1]!, m[2]!, url);
      return notFound();
    },
  });
  stand.url = `http://127.0.0.1:${server.port}`;
  stand.host = `127.0.0.1:${server.port}`;
  return stand;
}
