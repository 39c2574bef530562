import DedupVitalsCore
import Foundation
import Hummingbird

/// `POST /-/reload`: reloads the configuration, as Prometheus' endpoint of the same name. Protected by
/// ``AuthMiddleware`` (an `admin` token, or a loopback client when no token is configured).
///
/// 200 `{"status":"success","restart_required":[...]}`; 400 `invalid_configuration` with every problem as
/// `file:line: message` in `error.problems`, the running configuration staying in force.
struct AdminController: Sendable {
    let reload: @Sendable () throws(ConfigError) -> ReloadReport

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.post("/-/reload") { _, _ in
            do throws(ConfigError) {
                let report = try reload()
                return Self.json(.ok, Success(status: "success", restart_required: report.restartRequired))
            } catch {
                let problems = error.problems.map(\.description)
                return Self.json(
                    .badRequest,
                    Failure(
                        error: .init(
                            code: "invalid_configuration",
                            message:
                                "the configuration was not reloaded (\(problems.count) problem\(problems.count == 1 ? "" : "s")); the running configuration stays in force",
                            problems: problems)))
            }
        }
    }

    private struct Success: Encodable {
        var status: String
        var restart_required: [String]
    }

    /// The error shape of every route (docs/reference/http-api.md#errors), with the list of problems.
    private struct Failure: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var problems: [String]
        }
        var error: Detail
    }

    private static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            data = Data(#"{"error":{"code":"internal","message":"the answer could not be encoded"}}"#.utf8)
        }
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
