import Foundation
import Journal
import Provisioning
import Results

/// `licprov report`: one self-contained HTML page from a journal — no network, no script, charts
/// as inline SVG — for the people a batch is for.
///
/// Per run: licenses settled over time, requests per 5-second window (on the clock's multiples of
/// 5 s, as the emulator counts) against Cryptlex's limit of 50 — licprov fills each window, so
/// per-second bars would look over a limit they are not — 429s and retries over time; for the journal: entries by state, changes by action, and the
/// rows that did not succeed, grouped by reason. Requests are the journal's attempts (creates and
/// changes); lookups are not journaled and not drawn.
package enum HTMLReport {
    package static func render(journalPath: String, now: Date = Date()) throws -> String {
        let journal = try JournalReport.open(journalPath)
        let runs = try journal.runs()
        let attempts = try journal.attempts()
        var entries: [JournalEntry] = []
        try journal.forEachEntry(operations: .none) { entries.append($0) }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>licprov report: \(escape((journalPath as NSString).lastPathComponent))</title>
            <style>
            body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:980px;color:#1d2433;padding:0 16px}
            h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
            h3{font-size:14px;margin:16px 0 4px;color:#4a5468}.muted{color:#6b7488}table{border-collapse:collapse;margin:6px 0}
            td,th{padding:3px 10px;text-align:left;border-bottom:1px solid #eceff4;vertical-align:top}th{font-weight:600;color:#4a5468}
            td.n{text-align:right;font-variant-numeric:tabular-nums}.cards{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0}
            .card{border:1px solid #d8dde6;border-radius:6px;padding:8px 14px;min-width:96px}.card b{display:block;font-size:20px}
            .ok b{color:#1f7a4d}.bad b{color:#b3261e}svg{display:block;margin:4px 0 10px}code{font-size:12px;color:#4a5468}
            .legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
            </style></head><body>
            <h1>licprov report</h1>
            <div class="muted">journal <code>\(escape(journalPath))</code> · \(runs.count) runs · generated \(escape(SQLiteJournal.timestamp()))</div>

            """
        // The journal as a whole.
        var byState: [JournalEntry.State: Int] = [:]
        for entry in entries { byState[entry.state, default: 0] += 1 }
        let done = byState[.created, default: 0] + byState[.recovered, default: 0]
        let bad =
            byState[.failed, default: 0] + byState[.rejected, default: 0] + byState[.conflict, default: 0]
            + byState[.unresolved, default: 0]
        html += "<div class=\"cards\">"
        html += card("rows", entries.count, "")
        html += card("done", done, "ok")
        html += card("not done", bad, bad > 0 ? "bad" : "")
        html += card("waiting", byState[.pending, default: 0] + byState[.inFlight, default: 0], "")
        html += card("sends", attempts.count, "")
        html += card(
            "429s to sends", attempts.filter { $0.httpStatus == 429 }.count,
            attempts.contains { $0.httpStatus == 429 } ? "bad" : "")
        html += "</div>\n"
        // The journal records each create or change sent, not lookups: say so, or a run's own
        // totals (which count every request) would seem to contradict the charts.
        html +=
            "<p class=\"muted\">Sends and their 429s are the creates and changes the journal records; lookups are counted only in each run's totals.</p>\n"
        let actions = Dictionary(grouping: entries, by: \.action).mapValues(\.count)
        if actions.keys.contains(where: \.isChange) {
            html += "<table><tr><th>action</th><th>rows</th><th>done</th></tr>"
            for (action, count) in actions.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let applied = entries.filter { $0.action == action && $0.state.isSettled }.count
                html +=
                    "<tr><td>\(escape(action.rawValue))</td><td class=\"n\">\(count)</td><td class=\"n\">\(applied)</td></tr>"
            }
            html += "</table>\n"
        }

        // Who the licenses belong to: customers (users), organizations and resellers, found or created.
        let customers = try journal.customerCounts()
        let directory = try journal.directoryCounts()
        let created = try journal.createdByUs()
        if !customers.isEmpty || !directory.isEmpty {
            html +=
                "<table><tr><th>linked to</th><th>resolved</th><th>created by licprov</th><th>not resolved</th></tr>"
            let kinds: [(String, [CustomerRecord.State: Int], Int)] = [
                ("resellers", directory[.reseller] ?? [:], created.resellers),
                ("organizations", directory[.organization] ?? [:], created.organizations),
                ("users", customers, created.users),
            ]
            for (noun, counts, made) in kinds where !counts.isEmpty {
                let resolved = counts[.resolved, default: 0]
                let rest = counts.values.reduce(0, +) - resolved
                html +=
                    "<tr><td>\(noun)</td><td class=\"n\">\(resolved)</td><td class=\"n\">\(made)</td><td class=\"n\">\(rest)</td></tr>"
            }
            html += "</table>\n"
        }

        for run in runs {
            html += section(for: run, attempts: attempts.filter { $0.runID == run.id }, entries: entries)
        }

        // Rows that did not succeed, by reason.
        let failures = entries.filter { [.failed, .rejected, .conflict, .unresolved].contains($0.state) }
        html +=
            "<h2>Rows that did not succeed</h2><p class=\"muted\">Rows refused by validation are not journaled: <code>licprov validate</code> lists them.</p>"
        if failures.isEmpty {
            html += "<p>None.</p>"
        } else {
            let grouped = Dictionary(grouping: failures) { FailureReason.of(status: $0.httpStatus, message: $0.error) }
            html += "<table><tr><th>rows</th><th>reason</th><th>row ids (file lines)</th></tr>"
            for (reason, rows) in grouped.sorted(by: { ($0.value.count, $1.key) > ($1.value.count, $0.key) }) {
                let listed = rows.prefix(20).map { "\(escape($0.rowID)) (\($0.sourceLine))" }.joined(separator: ", ")
                html +=
                    "<tr><td class=\"n\">\(rows.count)</td><td>\(escape(reason))</td><td>\(listed)\(rows.count > 20 ? " and \(rows.count - 20) more" : "")</td></tr>"
            }
            html += "</table>"
        }
        html += "\n</body></html>\n"
        return html
    }

    private static func card(_ label: String, _ value: Int, _ kind: String) -> String {
        "<div class=\"card \(kind)\"><b>\(value)</b>\(escape(label))</div>"
    }

    /// One run: its line in the journal, and its three charts.
    private static func section(for run: RunRecord, attempts: [SQLiteJournal.AttemptRecord], entries: [JournalEntry])
        -> String
    {
        var html = "<h2>Run \(run.id): \(escape(run.outcome ?? "did not end (killed?)"))</h2>"
        html +=
            "<div class=\"muted\">\(escape(run.startedAt)) → \(escape(run.endedAt ?? "…")) · <code>\(escape(run.command))</code></div>"
        if let summary = run.summary { html += "<div class=\"muted\">\(escape(summary))</div>" }
        guard let start = SQLiteJournal.date(run.startedAt) else { return html }
        let end =
            run.endedAt.flatMap(SQLiteJournal.date) ?? attempts.compactMap { $0.finishedAt.flatMap(SQLiteJournal.date) }
            .max() ?? start
        let seconds = max(1, Int(end.timeIntervalSince(start).rounded(.up)))
        // Settled over time: entries whose last change falls in this run and that are done.
        let settledTimes = entries.filter { $0.state.isSettled }.compactMap { $0.changedAt }
            .filter { $0 >= start && $0 <= end.addingTimeInterval(1) }.map { $0.timeIntervalSince(start) }.sorted()
        guard !attempts.isEmpty || !settledTimes.isEmpty else {
            return html + "<p class=\"muted\">Nothing was sent in this run.</p>"
        }
        html += "<h3>Licenses and changes settled (\(settledTimes.count))</h3>"
        html += lineChart(settledTimes, duration: Double(seconds))
        // Requests, 429s and retries per 5 s window, the windows on the clock's multiples of 5 s
        // (as the emulator counts; Cryptlex's own windows may be placed otherwise).
        let firstWindow = Int(start.timeIntervalSince1970) / 5
        let windows = max(0, Int(end.timeIntervalSince1970) / 5 - firstWindow)
        var perWindow = Array(repeating: 0, count: windows + 1)
        var refused = Array(repeating: 0, count: windows + 1)
        var retries = Array(repeating: 0, count: windows + 1)
        var seen = Set<Int64>()
        for attempt in attempts {
            guard let time = SQLiteJournal.date(attempt.startedAt) else { continue }
            let bucket = min(max(0, Int(time.timeIntervalSince1970) / 5 - firstWindow), windows)
            perWindow[bucket] += 1
            if attempt.httpStatus == 429 { refused[bucket] += 1 }
            if !seen.insert(attempt.entryID).inserted { retries[bucket] += 1 }
        }
        html += "<h3>Requests per 5 s (\(attempts.count) sends; the dashed line is Cryptlex's limit, 50 per 5 s)</h3>"
        html += barChart([(perWindow, "#3b6fd6")], duration: windows, limit: 50, step: 5)
        html += "<h3>429s and retries of sends per 5 s (\(refused.reduce(0, +)) and \(retries.reduce(0, +)))</h3>"
        html += barChart([(retries, "#e0a100"), (refused, "#b3261e")], duration: windows, limit: nil, step: 5)
        html +=
            "<div class=\"legend\"><span><i class=\"sw\" style=\"background:#e0a100\"></i>retries</span><span><i class=\"sw\" style=\"background:#b3261e\"></i>429s</span></div>"
        return html
    }

    static let width = 940.0, height = 150.0, left = 44.0, bottom = 22.0

    /// A cumulative step line: how many were done by each moment.
    private static func lineChart(_ times: [Double], duration: Double) -> String {
        let count = max(times.count, 1)
        let plotWidth = width - left - 8
        let plotHeight = height - bottom - 8
        func x(_ t: Double) -> Double { left + plotWidth * min(t, duration) / duration }
        func y(_ n: Int) -> Double { 8 + plotHeight * (1 - Double(n) / Double(count)) }
        var points = ["\(format(x(0))),\(format(y(0)))"]
        for (index, time) in times.enumerated() {
            points.append("\(format(x(time))),\(format(y(index)))")
            points.append("\(format(x(time))),\(format(y(index + 1)))")
        }
        points.append("\(format(x(duration))),\(format(y(times.count)))")
        return svg(
            axes(duration: Int(duration.rounded(.up)), top: count)
                + "<polyline fill=\"none\" stroke=\"#1f7a4d\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
        )
    }

    /// Bars per bucket of `step` seconds, stacked series; an optional dashed limit line.
    private static func barChart(_ series: [([Int], String)], duration: Int, limit: Double?, step: Int) -> String {
        let totals = (0...duration).map { second in series.reduce(0) { $0 + $1.0[second] } }
        let top = max(Double(totals.max() ?? 0), (limit ?? 0) * 1.15, 1)
        let plotWidth = width - left - 8
        let plotHeight = height - bottom - 8
        let barWidth = max(1, plotWidth / Double(duration + 1) - 1)
        var body = ""
        for second in 0...duration {
            var base = 0.0
            for (values, color) in series where values[second] > 0 {
                let h = plotHeight * Double(values[second]) / top
                let x = left + plotWidth * Double(second) / Double(duration + 1)
                body +=
                    "<rect x=\"\(format(x))\" y=\"\(format(8 + plotHeight - base - h))\" width=\"\(format(barWidth))\" height=\"\(format(h))\" fill=\"\(color)\"/>"
                base += h
            }
        }
        if let limit {
            let y = 8 + plotHeight * (1 - limit / top)
            body +=
                "<line x1=\"\(format(left))\" x2=\"\(format(width - 8))\" y1=\"\(format(y))\" y2=\"\(format(y))\" stroke=\"#b3261e\" stroke-dasharray=\"5 4\"/>"
            body +=
                "<text x=\"\(format(width - 10))\" y=\"\(format(y - 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#b3261e\">limit \(Int(limit)) per \(step) s</text>"
        }
        return svg(axes(duration: (duration + 1) * step, top: Int(top.rounded(.up))) + body)
    }

    private static func axes(duration: Int, top: Int) -> String {
        let plotHeight = height - bottom - 8
        var text =
            "<line x1=\"\(format(left))\" y1=\"\(format(8 + plotHeight))\" x2=\"\(format(width - 8))\" y2=\"\(format(8 + plotHeight))\" stroke=\"#9aa3b5\"/>"
        text +=
            "<line x1=\"\(format(left))\" y1=\"8\" x2=\"\(format(left))\" y2=\"\(format(8 + plotHeight))\" stroke=\"#9aa3b5\"/>"
        text +=
            "<text x=\"\(format(left - 6))\" y=\"14\" text-anchor=\"end\" font-size=\"11\" fill=\"#6b7488\">\(top)</text>"
        text +=
            "<text x=\"\(format(left - 6))\" y=\"\(format(8 + plotHeight))\" text-anchor=\"end\" font-size=\"11\" fill=\"#6b7488\">0</text>"
        text += "<text x=\"\(format(left))\" y=\"\(format(height - 6))\" font-size=\"11\" fill=\"#6b7488\">0 s</text>"
        text +=
            "<text x=\"\(format(width - 8))\" y=\"\(format(height - 6))\" text-anchor=\"end\" font-size=\"11\" fill=\"#6b7488\">\(duration) s</text>"
        return text
    }

    private static func svg(_ body: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(format(width))\" height=\"\(format(height))\" viewBox=\"0 0 \(format(width)) \(format(height))\" role=\"img\">\(body)</svg>\n"
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
