using GpuTransformer.Kernels.Generator;
using GpuTransformer.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>
/// The generator is incremental: an edit that does not change a kernel (a comment) leaves every translation step's
/// output cached or unchanged and re-emits no source, while an edit to a kernel body re-translates that kernel.
/// </summary>
public sealed class KernelGeneratorIncrementalityTests
{
    [Fact]
    public void CommentEditLeavesTheStepsCached()
    {
        string source = File.ReadAllText(TestData.File("generator", "SampleKernels.cs"));
        var first = GeneratorHarness.Generate(GeneratorHarness.Compile(source), GeneratorHarness.NewDriver());
        string edited = source.Replace("float sum = 0f;", "float sum = 0f; // a comment that changes nothing", StringComparison.Ordinal);
        Assert.NotEqual(source, edited);
        var second = GeneratorHarness.Generate(Replace(first.Compilation, edited), first.Driver);

        var result = second.Driver.GetRunResult().Results.Single();
        foreach (string step in new[] { KernelGenerator.KernelStep, KernelGenerator.HelperStep })
        {
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        }

        var emitted = result.TrackedOutputSteps.SelectMany(p => p.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(emitted);
        Assert.All(emitted, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Equal(first.Sources, second.Sources);
    }

    /// <summary>
    /// A comment above everything moves every declaration: kernels (whose models hold no positions) stay cached and
    /// nothing is re-emitted; only the helpers' own step sees a change, because a helper's diagnostics need its position.
    /// </summary>
    [Fact]
    public void EditAboveEveryDeclarationReemitsNothing()
    {
        string source = File.ReadAllText(TestData.File("generator", "SampleKernels.cs"));
        var first = GeneratorHarness.Generate(GeneratorHarness.Compile(source), GeneratorHarness.NewDriver());
        var second = GeneratorHarness.Generate(Replace(first.Compilation, "// A new first line.\n" + source), first.Driver);

        var result = second.Driver.GetRunResult().Results.Single();
        var kernels = result.TrackedSteps[KernelGenerator.KernelStep].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(3, kernels.Count);
        Assert.All(kernels, o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        var emitted = result.TrackedOutputSteps.SelectMany(p => p.Value)
            .Where(s => s.Inputs.Any(i => i.Source.Name == KernelGenerator.EmitStep))
            .SelectMany(s => s.Outputs).ToList();
        Assert.Equal(3, emitted.Count);
        Assert.All(emitted, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Equal(first.Sources, second.Sources);
    }

    [Fact]
    public void BodyEditRetranslatesTheKernel()
    {
        string source = File.ReadAllText(TestData.File("generator", "SampleKernels.cs"));
        var first = GeneratorHarness.Generate(GeneratorHarness.Compile(source), GeneratorHarness.NewDriver());
        string edited = source.Replace("Soft(kind, x[i] * factor)", "Soft(kind, x[i] + factor)", StringComparison.Ordinal);
        var second = GeneratorHarness.Generate(Replace(first.Compilation, edited), first.Driver);

        var outputs = second.Driver.GetRunResult().Results.Single().TrackedSteps[KernelGenerator.KernelStep].SelectMany(s => s.Outputs).ToList();
        Assert.Contains(outputs, o => o.Reason == IncrementalStepRunReason.Modified);
        string scale = second.Sources.Single(p => p.Key.EndsWith("Scale.g.cs", StringComparison.Ordinal)).Value;
        Assert.Contains("(x_[i_] + factor_)", scale, StringComparison.Ordinal);
    }

    private static CSharpCompilation Replace(CSharpCompilation compilation, string source)
    {
        var old = compilation.SyntaxTrees.Single();
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(source, (CSharpParseOptions)old.Options, old.FilePath));
    }
}
