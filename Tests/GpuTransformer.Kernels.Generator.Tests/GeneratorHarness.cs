using GpuTransformer.Tests.Support;
using System.Collections.Immutable;
using GpuTransformer.Kernels.Generator;
using GpuTransformer.Runtime;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>Runs <see cref="KernelGenerator"/> on C# source through Roslyn's driver, as the build does.</summary>
public static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References = FindReferences();

    /// <summary>What one run produced.</summary>
    /// <param name="Sources">Generated files by hint name.</param>
    /// <param name="Diagnostics">The generator's diagnostics.</param>
    /// <param name="CompilationErrors">Errors of the compilation with the generated files added.</param>
    /// <param name="Driver">The driver after the run, to run again incrementally.</param>
    /// <param name="Compilation">The input compilation.</param>
    public sealed record Run(
        IReadOnlyDictionary<string, string> Sources,
        ImmutableArray<Diagnostic> Diagnostics,
        ImmutableArray<Diagnostic> CompilationErrors,
        GeneratorDriver Driver,
        CSharpCompilation Compilation);

    /// <summary>A compilation of <paramref name="sources"/> against the runtime's kernel language.</summary>
    public static CSharpCompilation Compile(params string[] sources) => CSharpCompilation.Create(
        "KernelTests",
        sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Kernel{i}.cs")),
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Runs the generator on <paramref name="sources"/>.</summary>
    public static Run Generate(params string[] sources) => Generate(Compile(sources), NewDriver());

    /// <summary>A driver that records each step's outputs, for incrementality checks.</summary>
    public static GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(
        [new KernelGenerator().AsSourceGenerator()],
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true),
        parseOptions: new CSharpParseOptions(LanguageVersion.Latest));

    /// <summary>Runs <paramref name="driver"/> on <paramref name="compilation"/>.</summary>
    public static Run Generate(CSharpCompilation compilation, GeneratorDriver driver)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var result = driver.GetRunResult().Results.Single();
        var sources = result.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return new Run(sources, result.Diagnostics, errors, driver, compilation);
    }

    private static ImmutableArray<MetadataReference> FindReferences()
    {
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        var paths = trusted.Split(Path.PathSeparator).Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll").ToList();
        paths.Add(typeof(KernelAttribute).Assembly.Location);
        return [.. paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }
}
