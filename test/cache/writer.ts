/** A separate process that writes to the cache at the same time as others (see store.test.ts). */
import { openCache } from "../../src/cache/open.ts";
import { fakeDigest, manyEntries, sha256, statsFor } from "./helpers.ts";

const [dir, idText] = process.argv.slice(2);
const id = Number(idText);
const store = openCache({ enabled: true, dir: dir!, warn: (m) => process.stderr.write(`WARN ${m}\n`) });
const entries = manyEntries(2000);
for (let i = 0; i < 40; i++) {
  // Half the blobs are shared by every writer (same digest, same bytes), half are this writer's own.
  const bytes = new TextEncoder().encode(i % 2 ? `{"shared":${i}}` : `{"writer":${id},"n":${i}}`);
  if (!store.putBlob(sha256(bytes), "application/json", bytes)) process.stderr.write(`put blob ${i} failed\n`);
  if (i % 8 === 0) {
    const digest = fakeDigest(id * 1000 + i);
    if (!store.putListing(statsFor(digest, entries), entries)) process.stderr.write(`put listing ${i} failed\n`);
    if (store.getListing(digest)?.entries.length !== entries.length) process.stderr.write(`get listing ${i} failed\n`);
  }
}
store.close();
