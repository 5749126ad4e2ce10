using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// The build-time kernel compiler: for every <c>[Kernel]</c> method it emits OpenCL C and CUDA C programs, a
/// <c>KernelDefinition</c>, a typed <c>Launch&lt;Method&gt;</c> launcher and the emulator's entry points, and it
/// reports every construct the kernel language lacks at its syntax node. <c>[KernelHelper]</c> methods are translated
/// once each and linked into the programs of the kernels that call them. Each step's output compares by value, so an
/// edit that does not change a kernel (a comment, another method) re-emits nothing.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class KernelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking name of the step that translates kernels (for incrementality tests).</summary>
    public const string KernelStep = "TranslateKernels";

    /// <summary>Tracking name of the step that pairs each kernel with the helpers' code, the input of emission.</summary>
    public const string EmitStep = "KernelsWithHelpers";

    /// <summary>Tracking name of the step that translates helpers.</summary>
    public const string HelperStep = "TranslateHelpers";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var helpers = context.SyntaxProvider.ForAttributeWithMetadataName(
                KernelSymbols.KernelHelperAttribute,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => KernelTranslator.TranslateHelper(ctx, ct))
            .Where(static h => h is not null)
            .Select(static (h, _) => h!)
            .WithTrackingName(HelperStep);

        var kernels = context.SyntaxProvider.ForAttributeWithMetadataName(
                KernelSymbols.KernelAttribute,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => KernelTranslator.TranslateKernel(ctx, ct))
            .Where(static k => k is not null)
            .Select(static (k, _) => k!)
            .WithTrackingName(KernelStep);

        // Kernels link only the helpers' code, which does not move when lines above a helper are edited.
        var helperCode = helpers.Select(static (h, _) => HelperCode.From(h)).Collect();

        context.RegisterSourceOutput(helpers.Collect(), static (spc, all) =>
        {
            foreach (var helper in all)
            {
                foreach (var diagnostic in helper.Diagnostics)
                {
                    spc.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            }

            foreach (var helper in SourceEmitter.RecursiveHelpers(all))
            {
                var l = helper.Location;
                spc.ReportDiagnostic(Diagnostic.Create(KernelDiagnostics.Recursion, Location.Create(l.FilePath, l.Span, l.LineSpan), helper.DisplayName));
            }
        });

        context.RegisterSourceOutput(kernels.Combine(helperCode).WithTrackingName(EmitStep), static (spc, pair) =>
        {
            var (kernel, all) = pair;
            foreach (var diagnostic in kernel.Diagnostics)
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }

            spc.AddSource(kernel.HintName, SourceEmitter.Emit(kernel, all));
        });
    }
}
