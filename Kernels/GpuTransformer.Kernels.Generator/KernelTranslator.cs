using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuTransformer.Kernels.Generator;

/// <summary>Turns one [Kernel] or [KernelHelper] method into its model: checks its shape, translates it to both dialects, and for kernels with barriers emits the work-item loops.</summary>
internal static class KernelTranslator
{
    private const int MaxParameters = 32;

    public static KernelModel? TranslateKernel(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetNode is not MethodDeclarationSyntax method || context.TargetSymbol is not IMethodSymbol symbol)
        {
            return null;
        }

        var model = context.SemanticModel;
        var diagnostics = new List<DiagnosticInfo>();
        var types = CTranslator.ContainingTypes(symbol.ContainingType).ToList();
        bool allPartial = types.All(t => t.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>().Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword)));
        if (!symbol.IsStatic || !symbol.ReturnsVoid || symbol.IsGenericMethod || method.Body is null || !allPartial || types.Any(t => t.IsGenericType))
        {
            diagnostics.Add(DiagnosticInfo.Create(KernelDiagnostics.KernelShape, method.Identifier, symbol.Name));
        }

        if (symbol.Parameters.Length > MaxParameters)
        {
            diagnostics.Add(DiagnosticInfo.Create(KernelDiagnostics.TooManyParameters, method.Identifier, symbol.Name));
        }

        var parameters = new List<KernelParameterModel>();
        foreach (var parameter in symbol.Parameters)
        {
            bool isView = KernelSymbols.IsArrayView(parameter.Type, out var element);
            string? elementType = KernelSymbols.ElementTypeName(isView ? element : parameter.Type);
            var syntax = method.ParameterList.Parameters[parameter.Ordinal];
            if (elementType is null || parameter.RefKind != RefKind.None || parameter.IsParams)
            {
                diagnostics.Add(DiagnosticInfo.Create(KernelDiagnostics.UnsupportedParameter, syntax, parameter.Name));
                elementType = "Int32";
            }

            parameters.Add(new KernelParameterModel(parameter.Name, parameter.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), isView, elementType));
        }

        string entryName = string.Join("_", types.Select(t => t.Name)) + "_" + symbol.Name;
        if (method.Body is null)
        {
            return Model(symbol, method, types, parameters, entryName, "", "", default, false, 0, null, diagnostics);
        }

        // A kernel whose signature is wrong is reported once; its body is checked when the signature is fixed.
        var openCL = new CTranslator(model, CDialect.OpenCL, diagnostics.Count == 0 ? diagnostics : null);
        string openCLFunction = openCL.TranslateKernel(method, symbol, entryName);
        cancellationToken.ThrowIfCancellationRequested();
        var cuda = new CTranslator(model, CDialect.Cuda, null);
        string cudaFunction = cuda.TranslateKernel(method, symbol, entryName);
        string? groupBody = null;
        if (openCL.UsesBarriers)
        {
            groupBody = new WorkItemLoopEmitter(model, method, diagnostics).Emit(symbol, ArgumentsType(symbol.Name), GroupMethod(symbol.Name));
        }

        return Model(symbol, method, types, parameters, entryName, openCLFunction, cudaFunction, new EquatableArray<string>(openCL.CalledHelpers), openCL.UsesBarriers, openCL.SharedMemoryBytes, groupBody, diagnostics);
    }

    public static HelperModel? TranslateHelper(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetNode is not MethodDeclarationSyntax method || context.TargetSymbol is not IMethodSymbol symbol)
        {
            return null;
        }

        var diagnostics = new List<DiagnosticInfo>();
        bool scalars = symbol.Parameters.All(p => p.RefKind == RefKind.None && IsHelperScalar(p.Type)) && (symbol.ReturnsVoid || IsHelperScalar(symbol.ReturnType));
        if (!symbol.IsStatic || symbol.IsGenericMethod || !scalars || (method.Body is null && method.ExpressionBody is null) || symbol.ReturnsByRef)
        {
            diagnostics.Add(DiagnosticInfo.Create(KernelDiagnostics.HelperShape, method.Identifier, symbol.Name));
        }

        var openCL = new CTranslator(context.SemanticModel, CDialect.OpenCL, diagnostics.Count == 0 ? diagnostics : null);
        string openCLFunction = openCL.TranslateHelper(method, symbol, out string openCLPrototype);
        cancellationToken.ThrowIfCancellationRequested();
        var cuda = new CTranslator(context.SemanticModel, CDialect.Cuda, null);
        string cudaFunction = cuda.TranslateHelper(method, symbol, out string cudaPrototype);
        var location = method.Identifier.GetLocation();
        return new HelperModel(
            CTranslator.HelperName(symbol),
            symbol.ContainingType.Name + "." + symbol.Name,
            openCLPrototype,
            openCLFunction,
            cudaPrototype,
            cudaFunction,
            new EquatableArray<string>(openCL.CalledHelpers),
            new EquatableArray<DiagnosticInfo>(diagnostics),
            new DiagnosticLocation(method.SyntaxTree.FilePath, location.SourceSpan, location.GetLineSpan().Span));
    }

    public static string ArgumentsType(string method) => "__" + method + "Arguments";

    public static string GroupMethod(string method) => "__" + method + "Group";

    private static bool IsHelperScalar(ITypeSymbol type) => type.SpecialType is SpecialType.System_Single or SpecialType.System_Int32
        or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Boolean;

    private static KernelModel Model(IMethodSymbol symbol, MethodDeclarationSyntax method, List<INamedTypeSymbol> types, List<KernelParameterModel> parameters, string entryName, string openCL, string cuda, EquatableArray<string> helpers, bool barriers, int shared, string? groupBody, List<DiagnosticInfo> diagnostics)
    {
        string ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        var usings = new List<string>();
        foreach (var node in method.AncestorsAndSelf())
        {
            var list = node switch
            {
                CompilationUnitSyntax unit => unit.Usings,
                BaseNamespaceDeclarationSyntax space => space.Usings,
                _ => default,
            };
            usings.InsertRange(0, list.Where(u => u.GlobalKeyword.IsKind(SyntaxKind.None)).Select(u => u.WithoutTrivia().ToString()));
        }

        var containing = types.Select(t => new ContainingType(t.TypeKind == TypeKind.Struct ? (t.IsRecord ? "record struct" : "struct") : t.IsRecord ? "record" : "class", t.Name, t.IsStatic)).ToList();
        string hint = (ns.Length > 0 ? ns + "." : "") + string.Join(".", types.Select(t => t.Name)) + "." + symbol.Name + ".g.cs";
        return new KernelModel(
            hint,
            ns,
            string.Join("\n", usings.Distinct()),
            new EquatableArray<ContainingType>(containing),
            SyntaxFacts.GetText(symbol.DeclaredAccessibility),
            symbol.Name,
            symbol.ContainingType.ToDisplayString() + "." + symbol.Name,
            entryName,
            new EquatableArray<KernelParameterModel>(parameters),
            openCL,
            cuda,
            helpers,
            barriers,
            shared,
            groupBody,
            new EquatableArray<DiagnosticInfo>(diagnostics));
    }
}
