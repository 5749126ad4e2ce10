using System.Text;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>
/// The generator's output for testdata/generator/SampleKernels.cs, compared with the committed golden text. The
/// sample exercises every construct the kernel language has; a change to the output is a change to review (rerun
/// with GPUTRANSFORMER_UPDATE_GOLDENS=1 to rewrite the golden, then read the diff).
/// </summary>
public sealed class KernelGeneratorGoldenTests
{
    [Fact]
    public void SampleKernelsGenerateTheGoldenSource()
    {
        var run = GeneratorHarness.Generate(File.ReadAllText(TestData.File("generator", "SampleKernels.cs")));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationErrors);
        var text = new StringBuilder();
        foreach (var (hint, source) in run.Sources.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append("==== ").Append(hint).Append(" ====\n").Append(source.Replace("\r\n", "\n"));
        }

        string actual = text.ToString();
        string golden = TestData.File("generator", "SampleKernels.golden.txt");
        if (Environment.GetEnvironmentVariable("GPUTRANSFORMER_UPDATE_GOLDENS") == "1")
        {
            File.WriteAllText(Path.Combine(RepositoryRoot(), "testdata", "generator", "SampleKernels.golden.txt"), actual);
            return;
        }

        Assert.Equal(File.ReadAllText(golden), actual);
    }

    [Fact]
    public void SampleKernelsDeclareTheirParametersBarriersAndSharedMemory()
    {
        var run = GeneratorHarness.Generate(File.ReadAllText(TestData.File("generator", "SampleKernels.cs")));
        string reduce = run.Sources.Single(p => p.Key.EndsWith("SumRows.g.cs", StringComparison.Ordinal)).Value;
        Assert.Contains("new(\"x\", true, global::GpuTransformer.Runtime.KernelElementType.Float32)", reduce, StringComparison.Ordinal);
        Assert.Contains("__kernel void SampleKernels_SumRows(__global float* x_base, int x_offset, int x_length", reduce, StringComparison.Ordinal);
        Assert.Contains("extern \"\"C\"\" __global__ void SampleKernels_SumRows(float* x_, int x_length", reduce, StringComparison.Ordinal);
        Assert.Contains("&__SumRowsGroup);", reduce, StringComparison.Ordinal);
        string scale = run.Sources.Single(p => p.Key.EndsWith("Scale.g.cs", StringComparison.Ordinal)).Value;
        Assert.Contains("&__ScaleEmulated, null);", scale, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GpuTransformer.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("GpuTransformer.sln not found above the test assembly");
    }
}
