using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuTransformer.Bench;

/// <summary>
/// A rate per second of a benchmark: an amount per invocation (floating-point operations or bytes moved, from the
/// benchmark class's <c>{Method}{Quantity}</c> property if it has one, else its <c>{Quantity}</c> property, read on an
/// instance set up with the case's parameters) divided by the mean time, or by the fastest iteration's time. On a
/// shared machine other jobs only ever slow an iteration down, so the best iteration is the estimate of what the
/// kernel does on an idle machine and the mean is what it did in this run; both are reported.
/// </summary>
/// <param name="quantity">"Flops" or "Bytes": the property to read.</param>
/// <param name="unit">The column's unit, e.g. "GFLOP/s" (amount per nanosecond = giga-amount per second).</param>
/// <param name="best">Divide by the fastest iteration's time instead of the mean.</param>
public sealed class ThroughputColumn(string quantity, string unit, bool best = false) : IColumn
{
    /// <summary>GFLOP/s from the mean time.</summary>
    public static ThroughputColumn Gflops { get; } = new("Flops", "GFLOP/s");

    /// <summary>GFLOP/s from the fastest iteration.</summary>
    public static ThroughputColumn BestGflops { get; } = new("Flops", "GFLOP/s", best: true);

    /// <summary>GB/s from the mean time.</summary>
    public static ThroughputColumn GigabytesPerSecond { get; } = new("Bytes", "GB/s");

    /// <inheritdoc />
    public string Id => $"{nameof(ThroughputColumn)}.{quantity}{(best ? ".Best" : "")}";

    /// <inheritdoc />
    public string ColumnName => best ? $"{unit} (best)" : unit;

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => $"{quantity} per invocation over {(best ? "the fastest iteration's time" : "the mean time")}, in {unit}";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var report = summary[benchmarkCase];
        double? timeNs = best ? report?.ResultStatistics?.Min : report?.ResultStatistics?.Mean;
        double amount = Amount(benchmarkCase, quantity);
        return timeNs is double ns && ns > 0 && amount > 0 ? (amount / ns).ToString("F1", CultureInfo.InvariantCulture) : "-";
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <summary>The amount per invocation of a case: its class's <c>{Method}{Quantity}</c> property, else <c>{Quantity}</c>, on an instance with the case's parameters; 0 if there is neither.</summary>
    /// <param name="benchmarkCase">The case.</param>
    /// <param name="quantity">"Flops" or "Bytes".</param>
    /// <returns>The amount.</returns>
    public static double Amount(BenchmarkCase benchmarkCase, string quantity)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var type = benchmarkCase.Descriptor.Type;
        var property = type.GetProperty(benchmarkCase.Descriptor.WorkloadMethod.Name + quantity) ?? type.GetProperty(quantity);
        if (property is null)
        {
            return 0;
        }

        object instance = Activator.CreateInstance(type)!;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            type.GetProperty(parameter.Name)?.SetValue(instance, parameter.Value);
            type.GetField(parameter.Name)?.SetValue(instance, parameter.Value);
        }

        return Convert.ToDouble(property.GetValue(instance), CultureInfo.InvariantCulture);
    }
}
