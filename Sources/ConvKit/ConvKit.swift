public enum ConvKitPlaceholder {}
