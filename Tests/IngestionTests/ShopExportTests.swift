import CryptlexModels
import Foundation
import Testing

@testable import FileFormats
@testable import Ingestion

/// Shops' exports as the shop writes them (`--from shopify`, `--from stripe`), and the profile tools
/// they are built from: grouping with fill-down, ids made of columns, `skip-unlisted`, `skip` and
/// `warning` entries, `*` entries, what quantity means.
@Suite("Shop exports: Shopify, Stripe and the profile tools")
struct ShopExportTests {
    /// Shopify's "Export orders" columns (a subset, in its order) and eight orders: a mug beside
    /// licenses, the same SKU on two lines, pending, refunded, voided, cancelled and partially
    /// refunded orders.
    static let shopify = """
        Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing Company,Cancelled at,Vendor,Id
        #1001,ann@example.com,paid,2026-11-05 10:23:11 +0100,fulfilled,EUR,258.00,2026-11-05 10:23:09 +0100,2,Desk Pro,99.00,DESK-PRO-1Y,Ann Lee,Lee Design,,Desk Soft,5623011233841
        #1001,,,,,,,,1,Coffee mug,60.00,MUG-01,,,,Desk Soft,
        #1002,bo@example.com,paid,2026-11-05 11:02:51 +0100,fulfilled,EUR,149.00,2026-11-05 11:02:50 +0100,1,Server,149.00,SERVER-1Y,Bo Chan,,,Desk Soft,5623011266609
        #1003,cy@example.com,pending,,unfulfilled,EUR,99.00,2026-11-05 12:40:02 +0100,1,Desk Pro,99.00,DESK-PRO-1Y,Cy Ortiz,,,Desk Soft,5623011299377
        #1004,di@example.com,refunded,2026-11-05 13:15:20 +0100,fulfilled,EUR,99.00,2026-11-05 13:15:18 +0100,1,Desk Pro,99.00,DESK-PRO-1Y,Di Novak,,,Desk Soft,5623011332145
        #1005,eve@example.com,paid,2026-11-05 14:01:07 +0100,fulfilled,EUR,347.00,2026-11-05 14:01:05 +0100,1,Desk Pro,99.00,DESK-PRO-1Y,Eve Van Der Berg,Martin & Fils,,Desk Soft,5623011364913
        #1005,,,,,,,,1,Desk Pro,99.00,DESK-PRO-1Y,,,,Desk Soft,
        #1005,,,,,,,,1,Server,149.00,SERVER-1Y,,,,Desk Soft,
        #1006,fay@example.com,voided,,unfulfilled,EUR,99.00,2026-11-05 15:30:44 +0100,1,Desk Pro,99.00,DESK-PRO-1Y,Fay Kim,,,Desk Soft,5623011397681
        #1007,gus@example.com,paid,2026-11-05 16:12:00 +0100,fulfilled,EUR,99.00,2026-11-05 16:11:58 +0100,1,Desk Pro,99.00,DESK-PRO-1Y,Gus Berg,,2026-11-05 17:00:12 +0100,Desk Soft,5623011430449
        #1008,hal@example.com,partially_refunded,2026-11-05 17:45:31 +0100,fulfilled,EUR,159.00,2026-11-05 17:45:29 +0100,1,Desk Pro,99.00,DESK-PRO-1Y,Hal Ruiz,,,Desk Soft,5623011463217

        """

    static let skus = ValueTable(
        column: "Lineitem sku",
        entries: [
            .init(
                value: "DESK-PRO-1Y",
                fields: [
                    .init(name: "productId", value: "prod-desktop"), .init(name: "licenseTemplateId", value: "t-pro"),
                ]
            ),
            .init(value: "SERVER-1Y", fields: [.init(name: "productId", value: "prod-server")]),
        ])

    static func options(_ source: ExportSource, tables: [ValueTable], unknownColumnsGiven: Bool = false) throws
        -> IngestOptions
    {
        var options = IngestOptions(idColumn: source.idColumn)
        options.source = source
        options.valueTables = tables
        return try source.applying(to: options, unknownColumnsGiven: unknownColumnsGiven)
    }

    @Test func aShopifyExportIsOneRowPerOrderAndSKUWithTheOrdersColumnsOnEveryLine() throws {
        let result = try read("orders_export.csv", Self.shopify, Self.options(.shopify, tables: [Self.skus]))
        #expect(
            result.messages == [
                "orders_export.csv:12: Financial Status: warning: partially refunded: its licenses are kept"
            ])
        let kept = result.rows.filter { $0.skipped == nil }
        #expect(
            kept.map(\.rowID) == [
                "#1001/DESK-PRO-1Y", "#1002/SERVER-1Y", "#1004/DESK-PRO-1Y", "#1005/DESK-PRO-1Y", "#1005/SERVER-1Y",
                "#1006/DESK-PRO-1Y", "#1007/DESK-PRO-1Y", "#1008/DESK-PRO-1Y",
            ])
        #expect(kept.map(\.position.line) == [2, 4, 6, 7, 9, 10, 11, 12])
        // Quantity = licenses; the same SKU on two lines of #1005 is one row of 2.
        #expect(kept.map(\.quantity) == [2, 1, 1, 2, 1, 1, 1, 1])
        #expect(
            kept.map(\.request.productId) == [
                "prod-desktop", "prod-server", "prod-desktop", "prod-desktop", "prod-server", "prod-desktop",
                "prod-desktop", "prod-desktop",
            ])
        // The order's own columns reach its other lines: #1005's server line has its email and name.
        #expect(kept[4].customer?.email == "eve@example.com")
        #expect(kept[4].customer?.firstName == "Eve")
        #expect(kept[4].customer?.lastName == "Van Der Berg")
        #expect(kept[4].customer?.company == "Martin & Fils")
        // Refunded, voided and cancelled orders want their licenses revoked; paid ones do not.
        #expect(kept.map(\.request.revoked) == [false, false, true, false, false, true, true, false])
        // Skipped: the mug (not a listed SKU) and the pending order, counted, never errors.
        let skipped = result.rows.filter { $0.skipped != nil }
        #expect(skipped.map(\.rowID) == ["#1001/MUG-01", "#1003/DESK-PRO-1Y"])
        #expect(skipped.map(\.position.line) == [3, 5])
        #expect(skipped[0].skipped?.contains("MUG-01\" is not in [values.Lineitem sku]") == true)
        #expect(skipped[1].skipped == "pending: provisioned once paid")
        #expect(result.summary.skipped == 2)
        #expect(result.summary.errors == 0)
        #expect(result.summary.licenses == 10)
    }

    @Test func aContinuationLinesOwnProblemIsReportedAtItsOwnLine() throws {
        var text = Self.shopify.replacingOccurrences(of: "#1005,,,,,,,,1,Server", with: "#1005,,,,,,,,two,Server")
        var result = try read("orders_export.csv", text, Self.options(.shopify, tables: [Self.skus]))
        #expect(
            result.messages.contains { $0.hasPrefix("orders_export.csv:9: Lineitem quantity:") }, "\(result.messages)")
        // A listed SKU whose entry names a template the schema refuses is reported on that line too.
        text = Self.shopify.replacingOccurrences(
            of: "#1001,,,,,,,,1,Coffee mug,60.00,MUG-01", with: "#1001,,,,,,,,1,Coffee mug,60.00,BAD")
        var bad = Self.skus
        bad.entries.append(.init(value: "BAD", fields: [.init(name: "productId", value: "")]))
        result = try read("orders_export.csv", text, Self.options(.shopify, tables: [bad]))
        #expect(result.messages.contains { $0.hasPrefix("orders_export.csv:3: productId") }, "\(result.messages)")
    }

    @Test func aShopifyFileReadWithoutFromIsRefusedWithTheFlagItNeeds() throws {
        let error = try readError("orders_export.csv", Array(Self.shopify.utf8))
        #expect(error?.message.contains("read it with --from shopify") == true, "\(String(describing: error))")
        // --from shopify without a table of SKUs: which lines are licenses is the shop's to say.
        #expect(throws: IngestionError.self) { try Self.options(.shopify, tables: []) }
    }

    @Test func anOrderWhoseLinesAreApartIsAnErrorAtItsLine() throws {
        let lines = Self.shopify.split(separator: "\n").map(String.init)
        // #1001's mug line moved after #1002.
        let text = ([lines[0], lines[1], lines[3], lines[2]] + lines[4...]).joined(separator: "\n") + "\n"
        let result = try read("orders_export.csv", text, Self.options(.shopify, tables: [Self.skus]))
        #expect(
            result.messages.contains {
                $0.contains("orders_export.csv:4:")
                    && $0.contains("#1001 began on line 2, and its lines are not together")
            }, "\(result.messages)")
    }

    @Test func aProfilesOwnEntryWinsOverThePresets() throws {
        // This shop provisions authorized orders (a payment captured later) and revokes nothing on
        // a partial refund, without a warning.
        let status = ValueTable(
            column: "Financial Status",
            entries: [
                .init(value: "pending", fields: [.init(name: "revoked", value: "false")]),
                .init(value: "partially_refunded", fields: [.init(name: "revoked", value: "false")]),
            ])
        let result = try read("orders_export.csv", Self.shopify, Self.options(.shopify, tables: [Self.skus, status]))
        #expect(result.messages.isEmpty, "\(result.messages)")
        #expect(result.rows.filter { $0.skipped != nil }.map(\.rowID) == ["#1001/MUG-01"])
        // The preset's other entries stay: refunded is still revoked.
        #expect(result.rows.first { $0.rowID == "#1004/DESK-PRO-1Y" }?.request.revoked == true)
    }

    // MARK: Stripe

    static let stripeCSV = """
        id,Customer ID,Customer Email,Customer Name,Plan,Product,Quantity,Status,Created (UTC),Current Period Start (UTC),Current Period End (UTC),Canceled At (UTC),Ended At (UTC),channel (metadata)
        sub_A,cus_A,ann@example.com,Ann Lee,price_desk,prod_X,3,active,2026-10-05 10:23,2026-11-05 10:23,2026-12-05 10:23,,,web
        sub_B,cus_B,bo@example.com,Bo Chan,price_server,prod_Y,1,past_due,2026-09-20 14:10,2026-10-20 14:10,2026-11-20 14:10,,,partner
        sub_C,cus_C,cy@example.com,Cy,price_desk,prod_X,1,incomplete,2026-11-05 16:40,2026-11-05 16:40,2026-12-05 16:40,,,web
        sub_D,cus_D,di@example.com,Di Novak,price_desk,prod_X,2,canceled,2025-11-03 11:00,2025-11-03 11:00,2026-11-03 11:00,2026-10-01 12:00,2026-11-03 11:00,web

        """

    static let plans = ValueTable(
        column: "Plan",
        entries: [
            .init(value: "price_desk", fields: [.init(name: "productId", value: "prod-desktop")]),
            .init(value: "price_server", fields: [.init(name: "productId", value: "prod-server")]),
        ])

    @Test func aStripeExportIsOneLicensePerSubscriptionWithItsSeatsAndPeriod() throws {
        let result = try read("subscriptions.csv", Self.stripeCSV, Self.options(.stripe, tables: [Self.plans]))
        #expect(result.messages.isEmpty, "\(result.messages)")
        let kept = result.rows.filter { $0.skipped == nil }
        #expect(kept.map(\.rowID) == ["sub_A", "sub_B", "sub_D"])
        #expect(kept.map(\.quantity) == [1, 1, 1])
        #expect(kept.map(\.request.allowedActivations) == [3, 1, 2])
        #expect(
            kept.map(\.request.expiresAt) == ["2026-12-05T10:23:00Z", "2026-11-20T14:10:00Z", "2026-11-03T11:00:00Z"])
        #expect(kept.map(\.request.suspended) == [false, true, nil])
        #expect(kept.map(\.request.revoked) == [false, false, true])
        #expect(kept[0].request.metadata == [LicenseMetadata(key: "channel", value: "web")])
        #expect(kept[1].customer?.email == "bo@example.com")
        #expect(kept[1].customer?.lastName == "Chan")
        #expect(result.rows.first { $0.skipped != nil }?.rowID == "sub_C")
    }

    @Test func theAPIsListReadsAsTheDashboardsExport() throws {
        func time(_ text: String) -> Int {
            Int(
                ISO8601DateFormatter().date(from: text.replacingOccurrences(of: " ", with: "T") + ":00Z")!
                    .timeIntervalSince1970)
        }
        let subscriptions: [[String: Any]] = [
            [
                "id": "sub_A", "object": "subscription", "status": "active",
                "customer": ["id": "cus_A", "email": "ann@example.com", "name": "Ann Lee"],
                "current_period_end": time("2026-12-05 10:23"), "canceled_at": NSNull(), "metadata": ["channel": "web"],
                "items": ["data": [["price": ["id": "price_desk"], "quantity": 3]]],
            ],
            [
                "id": "sub_B", "object": "subscription", "status": "past_due",
                "customer": ["id": "cus_B", "email": "bo@example.com", "name": "Bo Chan"],
                "current_period_end": time("2026-11-20 14:10"), "metadata": ["channel": "partner"],
                "items": ["data": [["price": ["id": "price_server"], "quantity": 1]]],
            ],
            [
                "id": "sub_C", "object": "subscription", "status": "incomplete",
                "customer": ["id": "cus_C", "email": "cy@example.com", "name": "Cy"],
                "current_period_end": time("2026-12-05 16:40"), "metadata": ["channel": "web"],
                "items": ["data": [["price": ["id": "price_desk"], "quantity": 1]]],
            ],
            [
                "id": "sub_D", "object": "subscription", "status": "canceled",
                "customer": ["id": "cus_D", "email": "di@example.com", "name": "Di Novak"],
                "current_period_end": time("2026-11-03 11:00"), "canceled_at": time("2026-10-01 12:00"),
                "metadata": ["channel": "web"],
                "items": ["data": [["price": ["id": "price_desk"], "quantity": 2]]],
            ],
        ]
        let page = try JSONSerialization.data(withJSONObject: [
            "object": "list", "data": subscriptions, "has_more": false,
        ])
        var options = try Self.options(.stripe, tables: [Self.plans])
        options.format = .ndjson
        let fromJSON = try read(path: temporaryFile("subscriptions.json", [UInt8](page)), options)
        let fromCSV = try read("subscriptions.csv", Self.stripeCSV, Self.options(.stripe, tables: [Self.plans]))
        #expect(fromJSON.messages.isEmpty, "\(fromJSON.messages)")
        #expect(fromJSON.rows.map(\.rowID) == fromCSV.rows.map(\.rowID))
        #expect(fromJSON.rows.map(\.skipped) == fromCSV.rows.map(\.skipped))
        #expect(fromJSON.rows.map(\.request.canonicalJSON) == fromCSV.rows.map(\.request.canonicalJSON))
        #expect(fromJSON.rows.map(\.customer) == fromCSV.rows.map(\.customer))

        // A list whose customers are ids (not expanded) has no emails: refused, saying how to list it.
        var bare = subscriptions
        bare[0]["customer"] = "cus_A"
        let unexpanded = try JSONSerialization.data(withJSONObject: ["object": "list", "data": bare])
        let error = try readError("subscriptions.json", [UInt8](unexpanded), options)
        #expect(error?.message.contains("expand[]=data.customer") == true, "\(String(describing: error))")
    }

    // MARK: The profile tools, on any export

    @Test func anyExportGroupsFillsDownAndMakesItsIdWithAProfileAlone() throws {
        // A WooCommerce export: the order's columns on its first line only, an order status column.
        let text = """
            Order Number,Order Status,Billing Email,SKU,Quantity,Item Name
            4101,completed,ann@example.com,DESK-PRO-1Y,2,Desk Pro
            4101,,,MUG-01,1,Mug
            4101,,,DESK-PRO-1Y,1,Desk Pro
            4102,on-hold,bo@example.com,DESK-PRO-1Y,1,Desk Pro
            4103,cancelled,cy@example.com,DESK-PRO-1Y,1,Desk Pro

            """
        var options = IngestOptions(idColumn: "woo_line", unknownColumns: .ignore)
        options.grouping = LineGrouping(column: "Order Number", fillDown: ["Order Status", "Billing Email"])
        options.idColumns = ["Order Number", "SKU"]
        options.skipUnlisted = ["SKU"]
        options.columnMap = ["Billing Email": "email"]
        options.valueTables = [
            ValueTable(
                column: "SKU", entries: [.init(value: "DESK-PRO-1Y", fields: [.init(name: "productId", value: "p1")])]),
            ValueTable(
                column: "Order Status",
                entries: [
                    .init(value: "completed", fields: [.init(name: "revoked", value: "false")]),
                    .init(value: "on-hold", fields: [.init(name: "skip", value: "on hold")]),
                    .init(value: "cancelled", fields: [.init(name: "revoked", value: "true")]),
                ]),
        ]
        let result = try read("woo.csv", text, options)
        #expect(result.messages.isEmpty, "\(result.messages)")
        let kept = result.rows.filter { $0.skipped == nil }
        #expect(kept.map(\.rowID) == ["4101/DESK-PRO-1Y", "4103/DESK-PRO-1Y"])
        #expect(kept.map(\.quantity) == [3, 1])
        #expect(kept.map(\.request.revoked) == [false, true])
        #expect(result.rows.filter { $0.skipped != nil }.map(\.rowID) == ["4101/MUG-01", "4102/DESK-PRO-1Y"])
        // Fill-down copies only the columns named: the item's own columns stay its own.
        #expect(kept[0].customer?.email == "ann@example.com")

        // Quantity as seats: one license with that many activations.
        options.quantityMeaning = .seats
        let seats = try read("woo.csv", text, options).rows.filter { $0.skipped == nil }
        #expect(seats.map(\.quantity) == [1, 1])
        #expect(seats.map(\.request.allowedActivations) == [3, 1])

        // An id made of columns needs a name; a column the file lacks is named with the file's.
        options.idColumn = nil
        #expect(try readError("woo.csv", Array(text.utf8), options)?.message.contains("need --id-column") == true)
        options.idColumn = "woo_line"
        options.grouping = LineGrouping(column: "Order", fillDown: [])
        #expect(
            try readError("woo.csv", Array(text.utf8), options)?.message.contains(
                "[group] by names \"Order\", which the file does not have") == true)
    }

    @Test func aStarEntryMatchesAnyValueAndAnEmptyCellMatchesNone() throws {
        let text = """
            order_id,productId,Cancelled at
            A-1,p1,
            A-2,p1,2026-11-05 17:00:12 +0100

            """
        var options = IngestOptions(idColumn: "order_id")
        options.valueTables = [
            ValueTable(
                column: "Cancelled at", entries: [.init(value: "*", fields: [.init(name: "revoked", value: "true")])])
        ]
        let result = try read("orders.csv", text, options)
        #expect(result.messages.isEmpty, "\(result.messages)")
        #expect(result.rows.map(\.request.revoked) == [nil, true])
    }

    @Test func anOffsetInADateFormatIsRead() throws {
        let format = try DateFormat(pattern: "yyyy-MM-dd HH:mm:ss Z")
        func read(_ text: String) -> String? { try? format.iso(text)?.get() }
        #expect(read("2026-11-05 10:23:11 +0100") == "2026-11-05T10:23:11+01:00")
        #expect(read("2026-11-05 10:23:11 -0530") == "2026-11-05T10:23:11-05:30")
        #expect(read("2026-11-05 10:23:11 +01:00") == "2026-11-05T10:23:11+01:00")
        #expect(read("2026-11-05 10:23:11 Z") == "2026-11-05T10:23:11Z")
        #expect(format.iso("2026-11-05 10:23:11") == nil)
        #expect(format.iso("2026-11-05 10:23:11 +2500") == nil)
        #expect(throws: IngestionError.self) { try DateFormat(pattern: "yyyy-MM-dd Z") }
    }
}
