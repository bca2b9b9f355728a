/**
 * SQL text shared by both databases (standard SQL both understand). Lists of ids come in as
 * parameters; each dialect says how a parameter becomes a set (`ids(n)`): SQLite reads a JSON
 * array, PostgreSQL unnests an integer array.
 */

type IdSet = (param: number) => string;

/** Entries matching the candidate sets, in every image that has their layer, with their change (if any). */
export function entryHitsSql(ids: IdSet): string {
  return `
WITH m AS (
  SELECT layer_id, seq, dir_id, name_id, type, mode, size, linkname FROM entries WHERE dir_id IN (${ids(1)})
  UNION SELECT layer_id, seq, dir_id, name_id, type, mode, size, linkname FROM entries WHERE name_id IN (${ids(2)})
  UNION SELECT layer_id, seq, dir_id, name_id, type, mode, size, linkname FROM entries WHERE dir_id IN (${ids(3)}) AND name_id IN (${ids(4)})
)
SELECT i.reference, i.platform, i.manifest_digest, il.position, l.digest AS layer_digest, l.complete, l.toc AS layer_toc,
       dd.path AS dir, nn.name, m.type, m.mode, m.size, m.linkname,
       COALESCE(c.action, 0) AS action, c.fate, c.fate_position, m.seq
FROM m
JOIN layers l ON l.id = m.layer_id
JOIN image_layers il ON il.layer_id = m.layer_id
JOIN images i ON i.id = il.image_id
JOIN dirs dd ON dd.id = m.dir_id
JOIN names nn ON nn.id = m.name_id
LEFT JOIN changes c ON c.image_id = il.image_id AND c.position = il.position AND c.dir_id = m.dir_id AND c.name_id = m.name_id AND c.action IN (0, 1)`;
}

/** Deleted/hidden changes matching the candidate sets. */
export function removalHitsSql(ids: IdSet): string {
  return `
SELECT i.reference, i.platform, i.manifest_digest, c.position, l.digest AS layer_digest, l.complete, l.toc AS layer_toc,
       dd.path AS dir, nn.name, c.type, c.mode, c.size, NULL AS linkname,
       c.action, NULL AS fate, NULL AS fate_position, 0 AS seq
FROM changes c
JOIN images i ON i.id = c.image_id
JOIN image_layers il ON il.image_id = c.image_id AND il.position = c.position
JOIN layers l ON l.id = il.layer_id
JOIN dirs dd ON dd.id = c.dir_id
JOIN names nn ON nn.id = c.name_id
WHERE c.action IN (2, 3)
  AND (c.dir_id IN (${ids(1)}) OR c.name_id IN (${ids(2)}) OR (c.dir_id IN (${ids(3)}) AND c.name_id IN (${ids(4)})))`;
}

export const IMAGES_SQL = `
SELECT i.reference, i.platform, i.manifest_digest, i.error_code, i.error,
       (SELECT COUNT(*) FROM image_layers il WHERE il.image_id = i.id) AS layers
FROM images i`;
