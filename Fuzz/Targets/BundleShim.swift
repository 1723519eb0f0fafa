import Foundation

/// Outside SwiftPM there is no resource bundle; the emulator target loads the schema by path.
extension Bundle {
    static var module: Bundle { .main }
}
