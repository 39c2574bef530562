/// The names the two former runners had; both are ``ChildProcess`` now (`ServiceProcess(database:logPath:)` starts
/// `serve` on loopback, `ServeProcess(arguments)` starts the binary with any arguments).
public typealias ServiceProcess = ChildProcess
public typealias ServeProcess = ChildProcess
