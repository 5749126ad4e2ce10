using GpuTransformer.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>
/// Every construct the kernel language lacks is a compile-time error with its own id, reported exactly at the
/// offending syntax (the span between <c>[|</c> and <c>|]</c> in each case), and nothing else is reported.
/// </summary>
public sealed class KernelDiagnosticsTests
{
    private const string Prologue = """
        using GpuTransformer.Runtime;
        namespace T;
        internal static partial class K
        {
            private const int N = 4;
            private static float field = 1f;
            [KernelHelper] public static float Twice(float v) => 2f * v;
        """;

    /// <summary>(id, the kernel body with the expected span marked).</summary>
    public static TheoryData<string, string> BodyCases() => new()
    {
        { "GTK0003", "[|short|] s = 1; x[0] = s;" },
        { "GTK0004", "x[0] = ([|new float[2]|])[0];" },
        { "GTK0005", "x[0] = [|'a'|];" },
        { "GTK0006", "x[0] = [|System.Linq.Enumerable.Count(System.Linq.Enumerable.Range(0, 3))|];" },
        { "GTK0006", "[|float F() => 1f;|] x[0] = 0f;" },
        { "GTK0007", "[|throw new System.InvalidOperationException();|]" },
        { "GTK0007", "[|try { x[0] = 1f; } finally { x[1] = 1f; }|]" },
        { "GTK0008", "[|foreach (var i in System.Linq.Enumerable.Range(0, 3)) { x[i] = 0f; }|]" },
        { "GTK0009", "ref float r = [|ref x[0]|]; r = 1f;" },
        { "GTK0010", "x[0] = [|n.GetHashCode()|];" },
        { "GTK0011", "x[0] = [|System.MathF.Sqrt(2f)|];" },
        { "GTK0012", "var s = [|SharedMemory.Allocate<float>(n)|]; s[0] = 1f;" },
        { "GTK0012", "if (n > 0) { var s = [|SharedMemory.Allocate<float>(N)|]; s[0] = 1f; }" },
        { "GTK0013", "for (int i = 0; i < N; i++) { Group.Barrier(); if (i == n) { [|break;|] } }" },
        { "GTK0014", "[|switch (n) { default: x[0] = 1f; break; }|]" },
        { "GTK0014", "[|lock (x.GetType()) { }|]" },
        { "GTK0015", "x[0] = [|n >>> 1|];" },
        { "GTK0016", "x[0] = [|field|];" },
        { "GTK0018", "x[0] = (float)(n * [|0.5|]);" },
    };

    [Theory]
    [MemberData(nameof(BodyCases))]
    public void BodyConstructIsReportedAtItsNode(string id, string body)
    {
        var (source, span) = Mark(Prologue + "\n    [Kernel] internal static void Run(ArrayView<float> x, int n)\n    {\n        " + body + "\n    }\n}\n");
        AssertSingle(id, source, span);
    }

    /// <summary>Cases whose marked node is outside a kernel body: signatures, helpers, barriers in helpers.</summary>
    public static TheoryData<string, string> DeclarationCases() => new()
    {
        { "GTK0001", Prologue + "\n    [Kernel] internal static int [|Run|](ArrayView<float> x) { return 0; }\n}\n" },
        { "GTK0001", "using GpuTransformer.Runtime;\nnamespace T;\ninternal static class K\n{\n    [Kernel] internal static void [|Run|](ArrayView<float> x) { x[0] = 1f; }\n}\n" },
        { "GTK0002", Prologue + "\n    [Kernel] internal static void Run(ArrayView<float> x, [|bool flag|]) { x[0] = 1f; }\n}\n" },
        { "GTK0002", Prologue + "\n    [Kernel] internal static void Run([|ArrayView<double> x|]) { }\n}\n" },
        { "GTK0013", Prologue + "\n    [KernelHelper] public static void Sync() { [|Group.Barrier()|]; }\n    [Kernel] internal static void Run(ArrayView<float> x) { Sync(); x[0] = 1f; }\n}\n" },
        { "GTK0017", Prologue + "\n    [KernelHelper] public static int [|Down|](int a) => a > 0 ? Down(a - 1) : 0;\n    [Kernel] internal static void Run(ArrayView<int> x) { x[0] = Down(3); }\n}\n" },
        { "GTK0019", Prologue + "\n    [Kernel] internal static void [|Run|](" + string.Join(", ", Enumerable.Range(0, 33).Select(i => $"int p{i}")) + ") { }\n}\n" },
        { "GTK0020", Prologue + "\n    [KernelHelper] public static float [|First|](ArrayView<float> v) => v[0];\n    [Kernel] internal static void Run(ArrayView<float> x) { x[0] = 1f; }\n}\n" },
    };

    [Theory]
    [MemberData(nameof(DeclarationCases))]
    public void DeclarationIsReportedAtItsNode(string id, string marked)
    {
        var (source, span) = Mark(marked);
        AssertSingle(id, source, span);
    }

    [Fact]
    public void EveryDescriptorHasACase()
    {
        var ids = BodyCases().Select(row => (string)row[0]).Concat(DeclarationCases().Select(row => (string)row[0])).ToHashSet();
        var expected = Enumerable.Range(1, 20).Select(i => $"GTK{i:D4}").ToHashSet();
        Assert.Equal(expected.Order(), ids.Order());
    }

    [Fact]
    public void ValidKernelHasNoDiagnostics()
    {
        var run = GeneratorHarness.Generate(Prologue + "\n    [Kernel] internal static void Run(ArrayView<float> x, int n) { int i = Grid.GlobalIndex.X; if (i < n) { x[i] = Twice(x[i]) + N; } }\n}\n");
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationErrors);
    }

    private static void AssertSingle(string id, string source, Microsoft.CodeAnalysis.Text.TextSpan span)
    {
        var run = GeneratorHarness.Generate(source);
        var diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(span, diagnostic.Location.SourceSpan);
        Assert.False(string.IsNullOrWhiteSpace(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static (string Source, Microsoft.CodeAnalysis.Text.TextSpan Span) Mark(string marked)
    {
        int start = marked.IndexOf("[|", StringComparison.Ordinal);
        int end = marked.IndexOf("|]", StringComparison.Ordinal);
        string source = marked.Remove(end, 2).Remove(start, 2);
        return (source, Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(start, end - 2));
    }
}
