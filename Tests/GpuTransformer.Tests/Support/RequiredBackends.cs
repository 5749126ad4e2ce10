namespace GpuTransformer.Tests.Support;

/// <summary>
/// Which optional backends and tools this test run must have. CI sets <c>GPUTRANSFORMER_REQUIRE_BACKENDS</c> (for
/// example <c>cpu,emulator,opencl,clang</c>); a test that needs something listed there fails when it is missing,
/// while on a user's machine it is skipped with a message saying what is absent.
/// </summary>
public static class RequiredBackends
{
    /// <summary>The environment variable CI sets.</summary>
    public const string Variable = "GPUTRANSFORMER_REQUIRE_BACKENDS";

    private static readonly HashSet<string> Required = new(
        (Environment.GetEnvironmentVariable(Variable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether this run must have <paramref name="backend"/>.</summary>
    /// <param name="backend">cpu, emulator, opencl, cuda or clang.</param>
    /// <returns>True when listed in the variable.</returns>
    public static bool IsRequired(string backend) => Required.Contains(backend);

    /// <summary>
    /// The skip reason for a test that needs <paramref name="backend"/>: null when it is present or required (a
    /// required but absent backend must make the test run and fail), else why it is skipped.
    /// </summary>
    /// <param name="backend">The backend's name.</param>
    /// <param name="absentBecause">Why it is absent, or null when it is present.</param>
    /// <returns>The skip reason, or null to run the test.</returns>
    public static string? SkipReason(string backend, string? absentBecause) =>
        absentBecause is null || IsRequired(backend) ? null : $"{backend} is not available here ({absentBecause}); set {Variable}={backend} to make this a failure";
}
