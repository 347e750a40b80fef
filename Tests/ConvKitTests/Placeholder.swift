// Placeholder so that SwiftPM finds the ConvKitTests target (the layers branch adds the real tests).
import ConvKit
