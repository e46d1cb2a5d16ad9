package store

// schemaMigrations returns the schema migrations in order: migration i
// takes the store from user_version i to i+1. Never edit a released
// migration; append a new one.
//
// Times are INTEGER Unix nanoseconds (UTC); 0 means unknown. valid_to NULL
// means the edge is current. docs/store.md documents every table.
func schemaMigrations() []string {
	return []string{schemaV1}
}

const schemaV1 = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('commit_seq', 0), ('last_commit_at', 0);

-- datasets and its detail tables (identities, properties, columns) hold the
-- current merged view of each dataset, for queries; dataset_periods is the
-- record.
CREATE TABLE datasets (
	id          INTEGER PRIMARY KEY,
	namespace   TEXT NOT NULL,
	name        TEXT NOT NULL,
	platform    TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	UNIQUE (namespace, name)
);

-- What each extractor said about a dataset, and when: one row per source and
-- period [valid_from, valid_to) with the description (graph.Dataset as
-- JSON) the source gave then. A new description starts a new period. A
-- replace-mode source ends the periods of the datasets its new snapshot
-- lacks; Expire ends those of incremental sources not recorded for the
-- retention. The dataset as of T is the merge of the periods valid at T.
CREATE TABLE dataset_periods (
	dataset_id  INTEGER NOT NULL REFERENCES datasets (id),
	source      TEXT NOT NULL,
	valid_from  INTEGER NOT NULL,
	valid_to    INTEGER,
	description TEXT NOT NULL,
	recorded_at INTEGER NOT NULL,
	commit_seq  INTEGER NOT NULL,
	CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX dataset_periods_current ON dataset_periods (dataset_id, source) WHERE valid_to IS NULL;

CREATE TABLE dataset_identities (
	dataset_id INTEGER NOT NULL REFERENCES datasets (id),
	namespace  TEXT NOT NULL,
	name       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	PRIMARY KEY (dataset_id, namespace, name, reason)
) WITHOUT ROWID;
CREATE INDEX dataset_identities_by_name ON dataset_identities (namespace, name);

CREATE TABLE dataset_properties (
	dataset_id INTEGER NOT NULL REFERENCES datasets (id),
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	PRIMARY KEY (dataset_id, key)
) WITHOUT ROWID;

CREATE TABLE columns (
	dataset_id  INTEGER NOT NULL REFERENCES datasets (id),
	position    INTEGER NOT NULL,
	name        TEXT NOT NULL,
	type        TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	tests       TEXT NOT NULL DEFAULT '[]', -- JSON array of dbt test names, sorted
	PRIMARY KEY (dataset_id, name)
) WITHOUT ROWID;

CREATE TABLE jobs (
	id         INTEGER PRIMARY KEY,
	namespace  TEXT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL DEFAULT '',
	sql        TEXT NOT NULL DEFAULT '',
	properties TEXT NOT NULL DEFAULT '{}', -- JSON object
	created_at INTEGER NOT NULL,
	UNIQUE (namespace, name)
);
-- Job 0 is "no job": evidence without a job points at it.
INSERT INTO jobs (id, namespace, name, created_at) VALUES (0, '', '', 0);

CREATE TABLE runs (
	id         TEXT PRIMARY KEY,
	job_id     INTEGER NOT NULL REFERENCES jobs (id),
	parent     TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL DEFAULT '',
	started_at INTEGER NOT NULL DEFAULT 0,
	ended_at   INTEGER NOT NULL DEFAULT 0,
	properties TEXT NOT NULL DEFAULT '{}', -- JSON object
	created_at INTEGER NOT NULL
);

-- One row per validity period of a table edge: [valid_from, valid_to).
-- The edge tables have no index but the current-edge one: every index costs
-- on each of millions of inserts, and weft reads whole graphs.
CREATE TABLE edges (
	id         INTEGER PRIMARY KEY,
	from_id    INTEGER NOT NULL REFERENCES datasets (id),
	to_id      INTEGER NOT NULL REFERENCES datasets (id),
	valid_from INTEGER NOT NULL,
	valid_to   INTEGER,
	CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX edges_current ON edges (from_id, to_id) WHERE valid_to IS NULL;

CREATE TABLE edge_evidence (
	edge_id     INTEGER NOT NULL REFERENCES edges (id),
	extractor   TEXT NOT NULL,
	origin      TEXT NOT NULL,
	method      TEXT NOT NULL,
	job_id      INTEGER NOT NULL REFERENCES jobs (id),
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	confidence  REAL NOT NULL,
	source      TEXT NOT NULL,    -- the extractor whose commit recorded it
	recorded_at INTEGER NOT NULL, -- time of the last commit that recorded it
	commit_seq  INTEGER NOT NULL, -- sequence number of that commit
	PRIMARY KEY (edge_id, extractor, origin, method, job_id)
) WITHOUT ROWID;

-- One row per validity period of a column edge. from_column or to_column is
-- '' for "the dataset as a whole" (see graph.ColumnID).
CREATE TABLE column_edges (
	id          INTEGER PRIMARY KEY,
	from_id     INTEGER NOT NULL REFERENCES datasets (id),
	from_column TEXT NOT NULL,
	to_id       INTEGER NOT NULL REFERENCES datasets (id),
	to_column   TEXT NOT NULL,
	type        TEXT NOT NULL,
	subtype     TEXT NOT NULL,
	valid_from  INTEGER NOT NULL,
	valid_to    INTEGER,
	CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX column_edges_current ON column_edges (from_id, from_column, to_id, to_column, type, subtype)
	WHERE valid_to IS NULL;

CREATE TABLE column_edge_evidence (
	edge_id     INTEGER NOT NULL REFERENCES column_edges (id),
	extractor   TEXT NOT NULL,
	origin      TEXT NOT NULL,
	method      TEXT NOT NULL,
	job_id      INTEGER NOT NULL REFERENCES jobs (id),
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	confidence  REAL NOT NULL,
	source      TEXT NOT NULL,
	recorded_at INTEGER NOT NULL,
	commit_seq  INTEGER NOT NULL,
	PRIMARY KEY (edge_id, extractor, origin, method, job_id)
) WITHOUT ROWID;

-- Per extractor: its watermark and how its edges end. mode 'replace': each
-- commit is the whole truth (a dbt manifest); 'incremental': edges end by
-- retention (query logs).
CREATE TABLE extractors (
	name         TEXT PRIMARY KEY,
	mode         TEXT NOT NULL CHECK (mode IN ('incremental', 'replace')),
	watermark    INTEGER NOT NULL DEFAULT 0,
	committed_at INTEGER NOT NULL,
	run_id       INTEGER REFERENCES weft_runs (id)
) WITHOUT ROWID;

-- weft's own runs (one per "weft extract").
CREATE TABLE weft_runs (
	id          INTEGER PRIMARY KEY,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0,
	status      TEXT NOT NULL DEFAULT 'running'
);

CREATE TABLE weft_run_extractors (
	run_id    INTEGER NOT NULL REFERENCES weft_runs (id),
	extractor TEXT NOT NULL,
	status    TEXT NOT NULL,
	error     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, extractor)
) WITHOUT ROWID;
`
