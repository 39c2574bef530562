/// An error a test helper throws when the world is not as the test needs it (a service that did not start, a
/// process that did not exit); its description is the whole message.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
