import Foundation
import GRDB

/// The database layout and its migrations.
enum StorageSchema {
    /// `PRAGMA application_id` of every dedup-vitals database ("DDVT"): tells our files from foreign ones.
    static let applicationID: Int32 = 0x4444_5654

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-aggregates") { db in
            try db.execute(
                sql: """
                    PRAGMA application_id = \(applicationID);
                    CREATE TABLE meta (
                        name TEXT PRIMARY KEY NOT NULL,
                        value BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE series (
                        id INTEGER PRIMARY KEY,
                        service TEXT NOT NULL,
                        operation TEXT NOT NULL,
                        last_seen_ms INTEGER NOT NULL,
                        miss INTEGER NOT NULL DEFAULT 0,
                        hit INTEGER NOT NULL DEFAULT 0,
                        in_flight INTEGER NOT NULL DEFAULT 0,
                        completed INTEGER NOT NULL DEFAULT 0,
                        mismatch INTEGER NOT NULL DEFAULT 0,
                        UNIQUE (service, operation)
                    );
                    CREATE TABLE buckets (
                        series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
                        start_ms INTEGER NOT NULL,
                        miss INTEGER NOT NULL DEFAULT 0,
                        hit INTEGER NOT NULL DEFAULT 0,
                        in_flight INTEGER NOT NULL DEFAULT 0,
                        completed INTEGER NOT NULL DEFAULT 0,
                        mismatch INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (series_id, start_ms)
                    ) WITHOUT ROWID;
                    CREATE INDEX buckets_by_start ON buckets(start_ms);
                    CREATE TABLE ingest_requests (
                        scope TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        body_sha256 BLOB NOT NULL,
                        status INTEGER NOT NULL,
                        response BLOB NOT NULL,
                        created_ms INTEGER NOT NULL,
                        PRIMARY KEY (scope, idempotency_key)
                    ) WITHOUT ROWID;
                    CREATE INDEX ingest_requests_by_created ON ingest_requests(created_ms);
                    """)
        }
        migrator.registerMigration("v2-alerts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alert_instances (
                        rule TEXT NOT NULL,
                        service TEXT NOT NULL,
                        operation TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
                        active_at_ms INTEGER NOT NULL,
                        starts_at_ms INTEGER,
                        ends_at_ms INTEGER,
                        last_notified_ms INTEGER,
                        fingerprint TEXT NOT NULL,
                        value REAL NOT NULL,
                        labels TEXT NOT NULL,
                        annotations TEXT NOT NULL,
                        PRIMARY KEY (rule, service, operation)
                    ) WITHOUT ROWID;
                    CREATE TABLE webhook_outbox (
                        id TEXT PRIMARY KEY NOT NULL,
                        receiver TEXT NOT NULL,
                        body BLOB NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_ms INTEGER NOT NULL,
                        created_ms INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'disabled')),
                        updated_ms INTEGER NOT NULL,
                        last_error TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_attempt_ms);
                    """)
        }
        migrator.registerMigration("v3-key-forensics") { db in
            try db.execute(
                sql: """
                    ALTER TABLE series ADD COLUMN double_executions INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE series ADD COLUMN late_retries INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE series ADD COLUMN narrow_keys INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE buckets ADD COLUMN double_executions INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE buckets ADD COLUMN late_retries INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE buckets ADD COLUMN narrow_keys INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE key_records (
                        hash BLOB PRIMARY KEY NOT NULL,
                        series_id INTEGER NOT NULL,
                        last_seen_ms INTEGER NOT NULL,
                        record BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE retry_delays (
                        series_id INTEGER PRIMARY KEY REFERENCES series(id) ON DELETE CASCADE,
                        sum REAL NOT NULL,
                        buckets BLOB NOT NULL
                    );
                    CREATE TABLE client_buckets (
                        series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
                        client TEXT NOT NULL,
                        start_ms INTEGER NOT NULL,
                        miss INTEGER NOT NULL DEFAULT 0,
                        hit INTEGER NOT NULL DEFAULT 0,
                        in_flight INTEGER NOT NULL DEFAULT 0,
                        completed INTEGER NOT NULL DEFAULT 0,
                        mismatch INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (series_id, client, start_ms)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4-key-log") { db in
            try db.execute(sql: "CREATE TABLE key_log (id INTEGER PRIMARY KEY AUTOINCREMENT, records BLOB NOT NULL)")
            try moveKeyRecordsToLog(db)
            try db.execute(sql: "DROP TABLE key_records")
        }
        migrator.registerMigration("v5-aggregate-log") { db in
            // Each commit group's aggregates, until folded into the tables above (see AggregateLog).
            try db.execute(sql: "CREATE TABLE aggregate_log (id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)")
        }
        return migrator
    }

    /// Copies the rows of v3's `key_records` table into key-log entries (see ``KeyLog``), 4,096 to a row.
    private static func moveKeyRecordsToLog(_ db: Database) throws {
        var bytes: [UInt8] = []
        var count = 0
        func flush() throws {
            guard count > 0 else { return }
            try db.execute(sql: "INSERT INTO key_log(records) VALUES (?)", arguments: [Data(bytes)])
            bytes.removeAll(keepingCapacity: true)
            count = 0
        }
        let rows = try Row.fetchCursor(db, sql: "SELECT hash, series_id, record FROM key_records")
        while let row = try rows.next() {
            let hash: Data = row[0]
            let record: Data = row[2]
            guard hash.count == 16, record.count == KeyRecordCodec.size else { continue }
            bytes.append(1)
            bytes.append(contentsOf: hash)
            withUnsafeBytes(of: (row[1] as Int64).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: record)
            count += 1
            if count == 4_096 { try flush() }
        }
        try flush()
    }
}
