import DedupVitalsCore
import DedupVitalsMCPGuard
import Testing

/// The configuration file and the catalog of tools learnt from `tools/list`.
@Suite("mcp-guard configuration")
struct GuardConfigTests {
    @Test("a full configuration")
    func full() {
        let (config, problems) = GuardConfigLoader.parse(
            """
            service: tickets
            database: state/guard.sqlite
            dedup_window: 1h
            in_flight_wait: 5s
            report:
              url: http://127.0.0.1:9470
              token_env: DV_TOKEN
              buffer: 100
            tools:
              create_ticket:
                key_fields: [conversation_id, issue_type]
                ignore_fields: [requested_at]
              search: {guard: false}
              rename: {guard: true}
            """, file: "/etc/guard.yml")
        #expect(problems.isEmpty)
        #expect(config.service == "tickets")
        #expect(config.database == "/etc/state/guard.sqlite")
        #expect(config.dedupWindow == .hours(1))
        #expect(config.inFlightWait == .seconds(5))
        #expect(config.report?.url == "http://127.0.0.1:9470")
        #expect(config.report?.tokenEnv == "DV_TOKEN")
        #expect(config.report?.buffer == 100)
        #expect(config.rule(for: "create_ticket").keyFields == ["conversation_id", "issue_type"])
        #expect(config.rule(for: "create_ticket").ignoreFields == ["requested_at"])
        #expect(config.rule(for: "search").guarded == false)
        #expect(config.rule(for: "other") == GuardConfig.ToolRule())
    }

    @Test("every problem, with its line")
    func problems() {
        let (_, problems) = GuardConfigLoader.parse(
            """
            service: "bad name"
            dedup_window: soon
            colour: blue
            report: {}
            tools:
              t:
                key_fields: [a]
                ignore_fields: [a]
                guard: maybe
            """, file: "g.yml")
        #expect(
            problems.map(\.description) == [
                #"g.yml:3: unknown key "colour""#,
                #"g.yml:1: service: "bad name" must match [A-Za-z_][A-Za-z0-9_.-]{0,63}"#,
                #"g.yml:2: dedup_window: "soon" is not a duration (write it like 500ms, 30s, 5m, 1h, 1d or 1h30m)"#,
                "g.yml:4: report.url is required",
                "g.yml:9: tools.t.guard must be true or false",
                #"g.yml:8: tools.t: "a" is both a key field and an ignored field"#,
            ])
    }

    @Test("guarded by default unless the annotations say read-only or idempotent; the configuration decides first")
    func catalog() throws {
        var catalog = ToolCatalog()
        let list = try #require(
            JSONValue(
                parsing: Array(
                    #"""
                    {"tools":[{"name":"write","annotations":{"readOnlyHint":false}},{"name":"read","annotations":{"readOnlyHint":true}},
                    {"name":"put","annotations":{"idempotentHint":true}},{"name":"plain"}]}
                    """#.utf8)))
        catalog.learn(fromListResult: list)
        var config = GuardConfig()
        #expect(catalog.isGuarded("write", config: config))
        #expect(!catalog.isGuarded("read", config: config))
        #expect(!catalog.isGuarded("put", config: config))
        #expect(catalog.isGuarded("plain", config: config))
        #expect(catalog.isGuarded("never-listed", config: config))
        config.tools = ["read": .init(guarded: true), "write": .init(guarded: false)]
        #expect(catalog.isGuarded("read", config: config))
        #expect(!catalog.isGuarded("write", config: config))
    }
}
