using System.Reflection;
using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>
/// Every kernel the generator emitted for GpuTransformer.Kernels compiles: its CUDA C to PTX for sm_80 with clang-14
/// (as NVRTC would on an A100/H100, which this machine lacks), and its OpenCL C as OpenCL C 1.2 (what NVIDIA's
/// driver accepts), both warning-free. The OpenCL conformance tests then build and run the same programs on PoCL.
/// </summary>
public sealed class GeneratedDeviceCodeTests
{
    /// <summary>Every KernelDefinition in the kernels assembly, by name.</summary>
    public static TheoryData<string> Kernels() => new(All.Keys.Order(StringComparer.Ordinal));

    private static Dictionary<string, KernelDefinition> All { get; } = typeof(GpuTransformer.Kernels.Gemm).Assembly.GetTypes()
        .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
        .Where(f => f.FieldType == typeof(KernelDefinition))
        .Select(f => (KernelDefinition)f.GetValue(null)!)
        .ToDictionary(k => k.Name);

    [Fact]
    public void TheKernelsAssemblyHasTheTransformerKernels()
    {
        foreach (string name in new[] { "GemmKernels_TiledLinear", "GemmKernels_SkinnyLinear", "AttentionKernels_RowAttention", "AttentionKernels_FlashAttention", "NormalizationKernels_LayerNormRows", "NormalizationKernels_RmsNormRows", "SoftmaxKernels_SoftmaxRows", "EmbeddingKernels_LookupRows", "TokenSelectionKernels_SelectRows", "RowGatherKernels_GatherRows", "ElementwiseKernels_Update" })
        {
            Assert.True(All.ContainsKey(name), $"{name} was not generated");
        }
    }

    [ClangTheory]
    [MemberData(nameof(Kernels))]
    public void CudaSourceCompilesToPtx(string name)
    {
        var kernel = All[name];
        using var dir = TestData.TempDirectory();
        string source = Path.Combine(dir.Path, name + ".cu");
        string ptx = Path.Combine(dir.Path, name + ".ptx");
        File.WriteAllText(source, Clang.CudaPrelude + kernel.CudaSource);
        var (code, output) = Clang.Run("-x", "cuda", "--cuda-device-only", "-nocudainc", "-nocudalib", "--cuda-gpu-arch=sm_80", "-S", "-Wall", "-Werror", "-o", ptx, source);
        Assert.True(code == 0, $"{kernel.SourceMethod}: clang failed:\n{output}");
        string assembly = File.ReadAllText(ptx);
        Assert.Contains($".entry {name}(", assembly, StringComparison.Ordinal);
        Assert.Equal(kernel.UsesBarriers, assembly.Contains("bar.sync", StringComparison.Ordinal) || assembly.Contains("barrier.sync", StringComparison.Ordinal));
        int parameters = kernel.Parameters.Sum(p => p.IsView ? 2 : 1);
        int entry = assembly.IndexOf($".entry {name}(", StringComparison.Ordinal);
        string signature = assembly[entry..assembly.IndexOf(')', entry)];
        Assert.Equal(parameters, signature.Split(".param", StringSplitOptions.None).Length - 1);
    }

    [ClangTheory]
    [MemberData(nameof(Kernels))]
    public void OpenCLSourceIsValidOpenCLC12(string name)
    {
        var kernel = All[name];
        using var dir = TestData.TempDirectory();
        string source = Path.Combine(dir.Path, name + ".cl");
        File.WriteAllText(source, kernel.OpenCLSource);
        var (code, output) = Clang.Run("-x", "cl", "-cl-std=CL1.2", "-Xclang", "-finclude-default-header", "-fsyntax-only", "-Wall", "-Werror", source);
        Assert.True(code == 0, $"{kernel.SourceMethod}: clang rejected the OpenCL C:\n{output}");
    }
}
