/** SQL schema of the results store. Bump SCHEMA_VERSION and add a migration when it changes. */
export const SCHEMA_VERSION = 1;

/** Statements that create every table of the store (idempotent). */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL UNIQUE,
  playbook TEXT NOT NULL,
  playbook_path TEXT,
  params_json TEXT NOT NULL DEFAULT '{}',
  git_commit TEXT,
  playbook_commit TEXT,
  host_json TEXT NOT NULL DEFAULT '{}',
  inventory_json TEXT,
  status TEXT NOT NULL CHECK (status IN ('running','ok','failed','interrupted')),
  dry_run INTEGER NOT NULL DEFAULT 0,
  started_at REAL NOT NULL,
  ended_at REAL,
  error TEXT,
  result_json TEXT,
  pid INTEGER,
  hostname TEXT,
  parent_run INTEGER REFERENCES runs(id)
);
CREATE TABLE IF NOT EXISTS steps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  parent_id INTEGER,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running','ok','failed','skipped','interrupted')),
  started_at REAL NOT NULL,
  ended_at REAL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS steps_run ON steps(run_id, seq);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step_id INTEGER,
  ts REAL NOT NULL,
  level TEXT NOT NULL,
  source TEXT,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_run ON logs(run_id, id);
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step_id INTEGER,
  ts REAL NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  unit TEXT,
  tags_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id, name);
CREATE TABLE IF NOT EXISTS artifacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step_id INTEGER,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  media_type TEXT,
  data BLOB,
  path TEXT
);
CREATE TABLE IF NOT EXISTS plan (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step_id INTEGER,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  action TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  node TEXT NOT NULL,
  facts_json TEXT NOT NULL,
  PRIMARY KEY (run_id, node)
);
`;
