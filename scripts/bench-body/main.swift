// What it costs to turn a journaled license into the bytes sent, and to fingerprint and journal a
// row (see scripts/bench-body.sh).
import Foundation
let encoder: JSONEncoder = { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]; return e }()
var request = LicenseRequest(productId: "prod-desktop")
request.allowedActivations = 2
request.subscriptionInterval = "P1Y"
request.tags = ["reseller", "pro"]
request.metadata = [LicenseMetadata(key: "plan", value: "pro"), LicenseMetadata(key: "order_id", value: "R-1001"),
                    LicenseMetadata(key: "licprov_request", value: "lp-0123456789ab-6f1d2c3b-0000-4000-8000-000000000000")]
let n = 200_000
func time(_ name: String, _ body: () -> Int) {
    let start = ContinuousClock.now
    let sink = body()
    let elapsed = ContinuousClock.now - start
    let us = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(n)
    print(String(format: "%-66@ %7.2f µs per license  (%d)", name as NSString, us, sink))
}
let stored = LicenseOperation.create(request).journalBytes
time("send: decode the journal's operation, encode it with the links (wire)") {
    var total = 0
    for i in 0..<n { total &+= (try! LicenseOperation(journalBytes: stored)).wireBody(userID: "user-\(i)").count }
    return total
}
time("send: encode the typed request with JSONEncoder (the wire's part)") {
    var total = 0
    for i in 0..<n {
        var r = request
        r.userId = "user-\(i)"
        total &+= (try! encoder.encode(r)).count
    }
    return total
}
time("register: a license's operation with its marker (canonicalJSON)") {
    var total = 0
    for i in 0..<n {
        var r = request
        r.metadata![2] = LicenseMetadata(key: "licprov_request", value: "lp-0123456789ab-6f1d2c3b-0000-4000-8000-\(i)")
        total &+= LicenseOperation.create(r).journalBytes.count
    }
    return total
}
time("plan: a row's canonical request (what its fingerprint covers)") {
    var total = 0
    for _ in 0..<n { total &+= request.canonicalJSON.count }
    return total
}
