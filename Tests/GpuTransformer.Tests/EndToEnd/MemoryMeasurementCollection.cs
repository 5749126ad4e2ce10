using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>
/// Tests that read process-wide memory figures (the resident set): they run alone, after the parallel tests, so that
/// no other test's allocations show up in what they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "memory measurement";
}
