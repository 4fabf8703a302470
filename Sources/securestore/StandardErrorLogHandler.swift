import Logging
@_spi(SecureStoreInternal) import SecureStore

/// `--verbose`: the store's log messages on standard error, one a line, with every control
/// character shown escaped (`Output.visible`): metadata may carry what another program put on
/// the bus, such as a service's error message.
struct StandardErrorLogHandler: LogHandler {
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        Output.standardError("securestore: \(event.level): \(Output.visible("\(event.message)\(fields)"))")
    }
}
