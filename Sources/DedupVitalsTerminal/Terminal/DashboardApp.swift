import Foundation

/// The full-screen dashboard: polls the service every `refresh`, redraws on data, keys and resizes, and restores the
/// terminal on every way out (q, Esc, Ctrl-C, SIGTERM, SIGHUP, end of input, errors).
public struct DashboardApp: Sendable {
    private enum Event: Sendable {
        case terminal(TerminalSession.Event)
        case tick
        case fetched(Result<DashboardSnapshot, ServiceClientError>)
    }

    public let fetcher: DashboardFetcher
    public let refreshSeconds: Double
    public let color: Bool

    public init(fetcher: DashboardFetcher, refreshSeconds: Double, color: Bool) {
        self.fetcher = fetcher
        self.refreshSeconds = refreshSeconds
        self.color = color
    }

    /// Runs until the viewer quits.
    public func run() async throws(TerminalError) {
        let terminal = try TerminalSession()
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        try terminal.start { continuation.yield(.terminal($0)) }
        defer { terminal.restore() }

        let refresh = Duration.milliseconds(Int64(refreshSeconds * 1000))
        let ticker = Task {
            while !Task.isCancelled {
                continuation.yield(.tick)
                try? await Task.sleep(for: refresh)
            }
        }
        defer { ticker.cancel() }

        var state = DashboardState(url: fetcher.client.baseURL, refreshSeconds: refreshSeconds)
        state.utcOffsetSeconds = TimeZone.current.secondsFromGMT()
        var size = terminal.size()
        var fetching: Task<Void, Never>?
        var refreshAgain = false
        func startFetch() {
            guard fetching == nil else {
                refreshAgain = true
                return
            }
            fetching = Task { [fetcher] in
                do throws(ServiceClientError) {
                    continuation.yield(.fetched(.success(try await fetcher.fetch())))
                } catch {
                    continuation.yield(.fetched(.failure(error)))
                }
            }
        }
        func draw() {
            state.nowMs = fetcher.clock()
            terminal.write(TerminalSession.frame(FrameRenderer.lines(state, size: size, color: color)))
        }

        draw()
        loop: for await event in events {
            switch event {
            case .tick:
                startFetch()
                continue loop
            case .fetched(let result):
                fetching = nil
                switch result {
                case .success(let snapshot): state.apply(snapshot)
                case .failure(let error): state.applyError(error.description)
                }
                if refreshAgain {
                    refreshAgain = false
                    startFetch()
                }
            case .terminal(.resize):
                size = terminal.size()
                terminal.write("\u{1B}[2J")
            case .terminal(.terminate):
                break loop
            case .terminal(.input(let bytes)):
                for key in Key.decode(bytes) {
                    switch state.handle(key, visibleRows: FrameRenderer.visibleTableRows(state, size: size)) {
                    case .quit: break loop
                    case .refresh: startFetch()
                    case .none: break
                    }
                }
            }
            draw()
        }
        fetching?.cancel()
    }
}
