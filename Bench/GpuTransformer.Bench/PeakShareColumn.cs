using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuTransformer.Bench;

/// <summary>
/// A benchmark's GFLOP/s as a share of the FMA peak timed in the same case (the <c>FmaPeakReference</c> method of its
/// class with the same parameters, run right before or after it), by the mean times or by the fastest iterations.
/// Empty where the class has no such method, or where the run's filter left it out.
/// </summary>
/// <param name="best">Compare the fastest iterations instead of the means.</param>
public sealed class PeakShareColumn(bool best = false) : IColumn
{
    /// <summary>The name of the method that times the peak.</summary>
    public const string ReferenceMethod = "FmaPeakReference";

    /// <summary>Share of the in-run peak by the mean times.</summary>
    public static PeakShareColumn Mean { get; } = new();

    /// <summary>Share of the in-run peak by the fastest iterations.</summary>
    public static PeakShareColumn Best { get; } = new(best: true);

    /// <inheritdoc />
    public string Id => $"{nameof(PeakShareColumn)}{(best ? ".Best" : "")}";

    /// <inheritdoc />
    public string ColumnName => best ? "Peak % (best)" : "Peak %";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 1;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => $"GFLOP/s as a percentage of {ReferenceMethod}'s in the same case, by {(best ? "the fastest iterations" : "the mean times")}";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var reference = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.Type == benchmarkCase.Descriptor.Type
            && c.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo
            && c.Descriptor.WorkloadMethod.Name == ReferenceMethod
            && c.Parameters.ValueInfo == benchmarkCase.Parameters.ValueInfo);
        if (reference is null)
        {
            return "-";
        }

        double own = Rate(summary, benchmarkCase), peak = Rate(summary, reference);
        return own > 0 && peak > 0 ? (100 * own / peak).ToString("F1", CultureInfo.InvariantCulture) : "-";
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    // FLOP per nanosecond of one case: its FLOP count (as ThroughputColumn reads it) over its mean or fastest time.
    private double Rate(Summary summary, BenchmarkCase benchmarkCase)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        double? ns = best ? statistics?.Min : statistics?.Mean;
        double amount = ThroughputColumn.Amount(benchmarkCase, "Flops");
        return ns is double time && time > 0 ? amount / time : 0;
    }
}
