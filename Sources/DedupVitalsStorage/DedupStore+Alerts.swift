import DedupVitalsCore
import Foundation
import GRDB

/// Alert instance state and the webhook outbox (migration `v2-alerts`).
extension DedupStore {
    /// Every stored alert instance (pending, firing and recently resolved).
    public func loadAlertInstances() throws(StorageError) -> [AlertInstance] {
        do {
            return try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT rule, service, operation, state, active_at_ms, starts_at_ms, ends_at_ms, last_notified_ms,
                               value, labels, annotations
                        FROM alert_instances ORDER BY rule, service, operation
                        """
                ).compactMap { row in
                    guard let state = AlertState(rawValue: row[3]) else { return nil }
                    return AlertInstance(
                        key: AlertInstanceKey(rule: row[0], series: SeriesKey(service: row[1], operation: row[2])),
                        state: state, activeAtMs: row[4], startsAtMs: row[5], endsAtMs: row[6], lastNotifiedMs: row[7],
                        value: row[8], labels: Self.decodeMap(row[9]), annotations: Self.decodeMap(row[10]))
                }
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Stores the outcome of one evaluation in ONE transaction: changed instances, removed instances and the
    /// notifications they cause. A message that `replacesPending` first deletes its receiver's waiting messages.
    public func saveAlertEvaluation(
        changed: [AlertInstance], removed: [AlertInstanceKey], messages: [(OutboxMessage, replacesPending: Bool)], nowMs: Int64
    ) throws(StorageError) {
        guard !changed.isEmpty || !removed.isEmpty || !messages.isEmpty else { return }
        do {
            try pool.write { db in
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO alert_instances(rule, service, operation, state, active_at_ms, starts_at_ms,
                            ends_at_ms, last_notified_ms, fingerprint, value, labels, annotations)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for instance in changed {
                    try upsert.execute(arguments: [
                        instance.key.rule, instance.key.series.service, instance.key.series.operation,
                        instance.state.rawValue, instance.activeAtMs, instance.startsAtMs, instance.endsAtMs,
                        instance.lastNotifiedMs, instance.fingerprint, instance.value.isFinite ? instance.value : 0,
                        Self.encodeMap(instance.labels), Self.encodeMap(instance.annotations),
                    ])
                }
                for key in removed {
                    try db.execute(
                        sql: "DELETE FROM alert_instances WHERE rule = ? AND service = ? AND operation = ?",
                        arguments: [key.rule, key.series.service, key.series.operation])
                }
                for (message, replacesPending) in messages {
                    if replacesPending {
                        try db.execute(
                            sql: "DELETE FROM webhook_outbox WHERE receiver = ? AND status = 'pending'",
                            arguments: [message.receiver])
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO webhook_outbox(id, receiver, body, attempts, next_attempt_ms, created_ms, status, updated_ms)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            message.id, message.receiver, Data(message.body), message.attempts, message.nextAttemptMs,
                            message.createdMs, message.status.rawValue, nowMs,
                        ])
                }
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Pending messages due at `nowMs`, oldest first.
    public func dueOutboxMessages(nowMs: Int64, limit: Int = 100) throws(StorageError) -> [OutboxMessage] {
        try fetchOutbox(
            sql: """
                SELECT id, receiver, body, attempts, next_attempt_ms, created_ms, status FROM webhook_outbox
                WHERE status = 'pending' AND next_attempt_ms <= ? ORDER BY created_ms, id LIMIT ?
                """, arguments: [nowMs, limit])
    }

    /// Every message of the outbox (any status), oldest first.
    public func outboxMessages() throws(StorageError) -> [OutboxMessage] {
        try fetchOutbox(
            sql: """
                SELECT id, receiver, body, attempts, next_attempt_ms, created_ms, status FROM webhook_outbox
                ORDER BY created_ms, id
                """, arguments: [])
    }

    private func fetchOutbox(sql: String, arguments: StatementArguments) throws(StorageError) -> [OutboxMessage] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
                    guard let status = OutboxMessage.Status(rawValue: row[6]) else { return nil }
                    let body: Data = row[2]
                    return OutboxMessage(
                        id: row[0], receiver: row[1], body: [UInt8](body), attempts: row[3], nextAttemptMs: row[4],
                        createdMs: row[5], status: status)
                }
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// The earliest next attempt among pending messages.
    public func nextOutboxAttemptMs() throws(StorageError) -> Int64? {
        do {
            return try pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT min(next_attempt_ms) FROM webhook_outbox WHERE status = 'pending'")
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Records an attempt of a still-pending message: its new status (or, for `.pending`, when to try again).
    public func recordDeliveryAttempt(
        id: String, status: OutboxMessage.Status, attempts: Int, nextAttemptMs: Int64?, error: String?, nowMs: Int64
    ) throws(StorageError) {
        do {
            try pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE webhook_outbox SET status = ?, attempts = ?, next_attempt_ms = coalesce(?, next_attempt_ms),
                            last_error = ?, updated_ms = ?
                        WHERE id = ? AND status = 'pending'
                        """,
                    arguments: [status.rawValue, attempts, nextAttemptMs, error, nowMs, id])
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Disables every pending message of `receiver` (after a 410 Gone). Returns how many were disabled.
    @discardableResult
    public func disablePendingDeliveries(receiver: String, reason: String, nowMs: Int64) throws(StorageError) -> Int {
        do {
            return try pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE webhook_outbox SET status = 'disabled', last_error = ?, updated_ms = ?
                        WHERE receiver = ? AND status = 'pending'
                        """,
                    arguments: [reason, nowMs, receiver])
                return db.changesCount
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Pending messages per receiver.
    public func outboxQueueDepth() throws(StorageError) -> [String: Int] {
        do {
            return try pool.read { db in
                var depth: [String: Int] = [:]
                for row in try Row.fetchAll(
                    db, sql: "SELECT receiver, count(*) FROM webhook_outbox WHERE status = 'pending' GROUP BY receiver")
                {
                    depth[row[0]] = row[1]
                }
                return depth
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Deletes finished (delivered, failed, disabled) messages last updated before `beforeMs`.
    public func pruneOutbox(beforeMs: Int64) throws(StorageError) {
        do {
            try pool.write { db in
                try db.execute(
                    sql: "DELETE FROM webhook_outbox WHERE status != 'pending' AND updated_ms < ?", arguments: [beforeMs])
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    static func encodeMap(_ map: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(map)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decodeMap(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }
}
