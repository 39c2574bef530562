import Hummingbird
import NIOCore

/// `GET /openapi.json`: the OpenAPI 3.1 document of the HTTP API.
///
/// The document's one source is `openapi.json` next to this file. SwiftPM compiles it into the binary
/// (`resources: [.embedInCode(...)]` in Package.swift), so the served bytes are exactly the file of the same build,
/// no file is looked up at run time, and there is no second copy to keep in step. `OpenAPITests` checks that the
/// document and the router list the same routes.
struct OpenAPIController: Sendable {
    static let path = "/openapi.json"
    /// The document, as compiled in.
    static let document = ByteBuffer(bytes: PackageResources.openapi_json)

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.get(RouterPath(Self.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: Self.document))
        }
    }
}
