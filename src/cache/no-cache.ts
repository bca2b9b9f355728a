import { NO_WRITER, type CacheInfo, type CacheStore, type ClearResult, type ListingWriter } from "./cache.ts";

/** `--no-cache`: remembers nothing. */
export class NoCache implements CacheStore {
  readonly enabled = false;
  constructor(readonly path: string) {}
  getListing(): undefined {
    return undefined;
  }
  readListing(): undefined {
    return undefined;
  }
  beginListing(): ListingWriter {
    return NO_WRITER;
  }
  putListing(): boolean {
    return false;
  }
  getLayerIndex(): undefined {
    return undefined;
  }
  getTree(): undefined {
    return undefined;
  }
  putTree(): boolean {
    return false;
  }
  putLayerIndex(): boolean {
    return false;
  }
  getBlob(): undefined {
    return undefined;
  }
  putBlob(): boolean {
    return false;
  }
  info(): CacheInfo {
    return { path: this.path, sizeBytes: 0, listings: 0, blobs: 0, entries: 0, problem: "the cache is turned off" };
  }
  clear(): ClearResult {
    return { path: this.path, listings: 0, blobs: 0, entries: 0, bytesFreed: 0, problem: "the cache is turned off" };
  }
  close(): void {}
}
