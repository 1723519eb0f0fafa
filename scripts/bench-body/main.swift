// What it costs to turn a journaled license into the bytes sent: the splice licprov does, against
// keeping the request typed until the wire (see scripts/bench-body.sh).
import Foundation
let encoder: JSONEncoder = { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]; return e }()
var request = LicenseRequest(productId: "prod-desktop")
request.allowedActivations = 2
request.subscriptionInterval = "P1Y"
request.tags = ["reseller", "pro"]
request.userId = "licprov-user-placeholder-2b8d41c6e0f5"
request.metadata = [LicenseMetadata(key: "plan", value: "pro"), LicenseMetadata(key: "order_id", value: "R-1001"),
                    LicenseMetadata(key: "licprov_request", value: "licprov-marker-placeholder-7f3c9e1a")]
let template = Array(try! encoder.encode(request))
let n = 200_000
func time(_ name: String, _ body: () -> Int) {
    let start = ContinuousClock.now
    let sink = body()
    let elapsed = ContinuousClock.now - start
    let us = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(n)
    print(String(format: "%-55@ %7.2f µs per license  (%d)", name as NSString, us, sink))
}
let placeholder = Array("licprov-marker-placeholder-7f3c9e1a".utf8)
let userPlaceholder = Array("licprov-user-placeholder-2b8d41c6e0f5".utf8)
func splice(_ body: [UInt8], _ needle: [UInt8], _ value: String) -> [UInt8] {
    var start = body.count - needle.count
    while start >= 0 { if body[start] == needle[0] && body[start..<start + needle.count].elementsEqual(needle) { break }; start -= 1 }
    var out = body; out.replaceSubrange(start..<start + needle.count, with: value.utf8); return out
}
time("splice marker and user id into the encoded template") {
    var total = 0
    for i in 0..<n { total &+= splice(splice(template, placeholder, "6f1d2c3b-0000-4000-8000-\(i)"), userPlaceholder, "user-\(i)").count }
    return total
}
time("encode the typed request at send time (JSONEncoder)") {
    var total = 0
    for i in 0..<n {
        var r = request
        r.userId = "user-\(i)"
        r.metadata![2] = LicenseMetadata(key: "licprov_request", value: "6f1d2c3b-0000-4000-8000-\(i)")
        total &+= (try! encoder.encode(r)).count
    }
    return total
}
time("encode the typed request at send time (jsonBody, by hand)") {
    var total = 0
    for i in 0..<n {
        var r = request
        r.userId = "user-\(i)"
        r.metadata![2] = LicenseMetadata(key: "licprov_request", value: "6f1d2c3b-0000-4000-8000-\(i)")
        total &+= r.jsonBody.count
    }
    return total
}
let decoder = JSONDecoder()
time("decode the request from the journal, then encode it") {
    var total = 0
    for i in 0..<n {
        var r = try! decoder.decode(LicenseRequest.self, from: Data(template))
        r.userId = "user-\(i)"
        total &+= (try! encoder.encode(r)).count
    }
    return total
}
let stored = LicenseOperation.create(request).journalBytes
time("decode the journal's operation, encode the request (jsonBody)") {
    var total = 0
    for i in 0..<n {
        guard case .create(var r) = try! LicenseOperation(journalBytes: stored) else { return 0 }
        r.userId = "user-\(i)"
        total &+= r.jsonBody.count
    }
    return total
}
