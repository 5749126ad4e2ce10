using System.Reflection;
using System.Runtime.Loader;
using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>
/// The generated code of testdata/generator/SampleKernels.cs, compiled and run: the launchers, the emulator's two
/// modes (the work-item loops with continue, a ref local into shared memory, do/while and per-work-item locals across
/// barriers) and the OpenCL program all compute what the C# says, checked against a plain C# reference.
/// </summary>
public sealed class SampleKernelExecutionTests
{
    private static readonly Lazy<Type> Kernels = new(Build);

    public static TheoryData<string> Devices() => new([.. TestDevices.Available.Where(d => d != "cpu"), "emulator:threads"]);

    [Theory]
    [MemberData(nameof(Devices))]
    public void SumRowsMatchesTheReference(string device)
    {
        const int rows = 3, cols = 37, group = 16;
        var x = new float[rows * cols];
        var random = new Random(7);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i % 11 == 0 ? float.NaN : i % 13 == 0 ? float.PositiveInfinity : (float)(random.NextDouble() - 0.5);
        }

        using var accelerator = DeviceCatalog.Open(device);
        using var input = accelerator.Upload<float>(x);
        using var sums = accelerator.Allocate<float>(rows);
        using var counts = accelerator.Allocate<int>(rows * group);
        Launch("LaunchSumRows", accelerator, new LaunchDimensions(rows, group), input.View, sums.View, counts.View, cols);
        accelerator.Synchronize();

        float[] gotSums = sums.ToArray();
        int[] gotCounts = counts.ToArray();
        for (int r = 0; r < rows; r++)
        {
            double expected = 0;
            for (int c = 0; c < cols; c++)
            {
                float v = x[(r * cols) + c];
                expected += float.IsNaN(v) || float.IsPositiveInfinity(v) ? 0 : v;
            }

            Assert.True(Math.Abs(expected - gotSums[r]) < 1e-5, $"{device} row {r}: sum {gotSums[r]}, expected {expected}");
            for (int lane = 0; lane < group; lane++)
            {
                int seen = 0;
                for (int c = lane; c < cols; c += group)
                {
                    float v = x[(r * cols) + c];
                    seen += float.IsNaN(v) || float.IsPositiveInfinity(v) ? 0 : 1;
                }

                // k: the do-while reaches 3 when seen > 0 and the while then breaks at 1; with seen = 0 the do runs
                // once and the while counts down to 0. So counts = seen + k - 1 (odd cols) - 1 (floor) + 1 (abs).
                int k = seen > 0 ? 1 : 0;
                int expectedCount = (seen & 0xFF) + k - (cols % 2 == 0 ? 0 : 1) - 1 + 1;
                Assert.Equal(expectedCount, gotCounts[(r * group) + lane]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void ScaleMatchesTheReferenceAndStopsAtCount(string device)
    {
        const int count = 300;
        var x = Enumerable.Range(0, count + 20).Select(i => (i - 150) / 37f).ToArray();
        using var accelerator = DeviceCatalog.Open(device);
        using var input = accelerator.Upload<float>(x);
        using var output = accelerator.Upload<float>(Enumerable.Repeat(42f, x.Length).ToArray());
        foreach (int kind in new[] { 0, 1, 2 })
        {
            Launch("LaunchScale", accelerator, LaunchDimensions.Covering(count, 64), input.View, output.View, count, 1.5f, kind);
            accelerator.Synchronize();
            float[] got = output.ToArray();
            for (int i = 0; i < x.Length; i++)
            {
                float v = x[i] * 1.5f;
                float expected = i >= count ? 42f : kind == 1 ? Math.Clamp(v, -1f, 1f) : kind == 2 ? MathF.Tanh(v) : v * 0.5f;
                Assert.True(Math.Abs(expected - got[i]) <= 1e-6f * Math.Max(1f, Math.Abs(expected)), $"{device} kind {kind} [{i}]: {got[i]}, expected {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void PrefixSumsMatchTheReference(string device)
    {
        using var accelerator = DeviceCatalog.Open(device);
        foreach (int length in new[] { 50, 20 })
        {
            const int rows = 3;
            var data = Enumerable.Range(0, rows * length).Select(i => ((i * 7919) % 23) - 11).ToArray();
            using var buffer = accelerator.Upload<int>(data);
            using var totals = accelerator.Allocate<int>(rows);

            // One group more than there are rows: it returns as a whole before the first barrier.
            Launch("LaunchPrefixSums", accelerator, new LaunchDimensions(rows + 1, 64), buffer.View, totals.View, length, 3);
            accelerator.Synchronize();
            int[] got = buffer.ToArray();
            int[] gotTotals = totals.ToArray();
            for (int r = 0; r < rows; r++)
            {
                int running = 0;
                for (int c = 0; c < length; c++)
                {
                    running += data[(r * length) + c];
                    Assert.True(running == got[(r * length) + c], $"{device} length {length} row {r} [{c}]: {got[(r * length) + c]}, expected {running}");
                }

                Assert.Equal(length > 32 ? running : -running, gotTotals[r]);
            }
        }
    }

    private static void Launch(string launcher, params object[] arguments)
    {
        var method = Kernels.Value.GetMethod(launcher, BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!;
        try
        {
            method.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private static Type Build()
    {
        var run = GeneratorHarness.Generate(File.ReadAllText(TestData.File("generator", "SampleKernels.cs")));
        Assert.Empty(run.Diagnostics);
        var compilation = run.Compilation.AddSyntaxTrees(run.Sources.Values.Select(s => Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(s, (Microsoft.CodeAnalysis.CSharp.CSharpParseOptions)run.Compilation.SyntaxTrees.First().Options)))
            .WithOptions(run.Compilation.Options.WithOptimizationLevel(OptimizationLevel.Release));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;
        var assembly = AssemblyLoadContext.Default.LoadFromStream(image);
        return assembly.GetType("Sample.SampleKernels", throwOnError: true)!;
    }
}
