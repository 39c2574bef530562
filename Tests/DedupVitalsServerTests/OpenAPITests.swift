import DedupVitalsServer
import Foundation
import Hummingbird
import Testing

/// The OpenAPI document served at `GET /openapi.json` describes exactly the routes the router has, and is
/// self-consistent: every `$ref` resolves, every operation answers its errors with the JSON error body.
@Suite struct OpenAPITests {
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// "METHOD /path" for every operation of `document`.
    static func operations(_ document: [String: Any]) -> Set<String> {
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        return Set(
            paths.flatMap { path, item in
                item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" }
            })
    }

    static func served() async throws -> (document: [String: Any], reply: HTTP.Reply) {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let reply = try await HTTP.get(service.baseURL + "/openapi.json")
        try await service.stop()
        let document = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        return (document, reply)
    }

    @Test func documentListsExactlyTheRoutesOfTheRouter() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let routes = Set(service.service.makeRouter().routes.map { "\($0.method.rawValue) \($0.path.description)" })
        try await service.stop()
        let (document, reply) = try await Self.served()
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: "Content-Type") == "application/json")
        #expect(document["openapi"] as? String == "3.1.0")
        let documented = Self.operations(document)
        #expect(
            routes.subtracting(documented).isEmpty,
            "routes missing from the OpenAPI document: \(routes.subtracting(documented).sorted())")
        #expect(
            documented.subtracting(routes).isEmpty,
            "documented operations the router lacks: \(documented.subtracting(routes).sorted())")
        #expect(routes.contains("POST /v1/events") && routes.contains("GET /openapi.json"))
    }

    @Test func everyReferenceResolves() async throws {
        let (document, _) = try await Self.served()
        var references: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                if let ref = object["$ref"] as? String { references.append(ref) }
                object.values.forEach(collect)
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(document)
        #expect(references.count > 20)
        for reference in Set(references) {
            #expect(reference.hasPrefix("#/"), "\(reference) is not local")
            var node: Any? = document
            for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
            #expect(node != nil, "\(reference) does not resolve")
        }
    }

    /// Each operation documents a 2xx answer, and every 4xx/5xx answer it documents is the JSON error body (for the
    /// OTLP receiver, the `google.rpc.Status` that OTLP clients expect); the `/v1` operations need the API token and
    /// document its 401.
    @Test func everyOperationDocumentsItsErrorsAsTheJSONErrorBody() async throws {
        let (document, _) = try await Self.served()
        let components = document["components"] as? [String: Any] ?? [:]
        let sharedResponses = components["responses"] as? [String: [String: Any]] ?? [:]
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        for (path, item) in paths {
            for (method, value) in item where Self.methods.contains(method) {
                let operation = try #require(value as? [String: Any])
                let label = "\(method.uppercased()) \(path)"
                let responses = operation["responses"] as? [String: Any] ?? [:]
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(label) documents no success")
                for (status, response) in responses where status.hasPrefix("4") || status.hasPrefix("5") {
                    var body = response as? [String: Any] ?? [:]
                    if let ref = body["$ref"] as? String {
                        body = sharedResponses[String(ref.split(separator: "/").last!)] ?? [:]
                    }
                    let schema = ((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
                    let text = String(describing: schema ?? "")
                    let errorSchema = path == "/v1/logs" ? "#/components/schemas/RpcStatus" : "#/components/schemas/Error"
                    #expect(text.contains(errorSchema), "\(label) \(status) is not \(errorSchema)")
                }
                let security = operation["security"] as? [[String: Any]] ?? []
                if path.hasPrefix("/v1/") {
                    #expect(security.contains { $0["apiToken"] != nil }, "\(label) does not declare the API token")
                    #expect(responses["401"] != nil, "\(label) does not document 401")
                }
            }
        }
    }
}
