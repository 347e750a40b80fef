// ConvKit's API uses the kernel module's value types (ShapeError, ComputeContext, geometries,
// algorithm enums), so a client needs only `import ConvKit`.
@_exported import ConvKitKernels
