/** An installed package, as an image's own package database records it. */
export interface Package {
  /** Which database it came from. */
  manager: "dpkg" | "apk" | "rpm";
  name: string;
  /** The full version as the manager writes it (dpkg "1:2.3-4", rpm "EPOCH:VERSION-RELEASE" with an epoch, apk "1.2.3-r4"). */
  version: string;
  architecture: string;
  /** The source package (dpkg Source, apk origin, rpm source rpm's name), when it differs or is given. */
  source?: string;
  /** The layer that wrote the current record of the package (its dpkg file list, or the database version it first appears in unchanged). */
  layer?: number;
}

/** Package databases refuse input beyond this (a dpkg status of 5,000 packages is about 10 MB). */
export const MAX_DATABASE_BYTES = 256 * 1024 * 1024;
