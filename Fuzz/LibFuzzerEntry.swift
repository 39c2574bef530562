/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    checkDecoder(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
