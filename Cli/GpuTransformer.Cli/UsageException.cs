namespace GpuTransformer.Cli;

/// <summary>A command line that does not parse; reported with the usage text and exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
