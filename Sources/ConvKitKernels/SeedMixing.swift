/// The SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix whose outputs
/// for consecutive inputs look independent. Dropout masks hash element indices with it, and
/// per-layer seeds are derived with it.
package enum SeedMixing {
    @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
