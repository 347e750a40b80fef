@_exported import ConvKitKernels
