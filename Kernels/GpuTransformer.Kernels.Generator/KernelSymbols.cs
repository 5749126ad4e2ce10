using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuTransformer.Kernels.Generator;

/// <summary>Recognises the kernel-language surface (GpuTransformer.Runtime) by symbol.</summary>
internal static class KernelSymbols
{
    public const string RuntimeNamespace = "GpuTransformer.Runtime";
    public const string KernelAttribute = "GpuTransformer.Runtime.KernelAttribute";
    public const string KernelHelperAttribute = "GpuTransformer.Runtime.KernelHelperAttribute";

    public static bool IsRuntimeType(ITypeSymbol? type, string name) =>
        type is not null && type.Name == name && type.ContainingNamespace?.ToDisplayString() == RuntimeNamespace;

    /// <summary>Whether <paramref name="type"/> is ArrayView&lt;T&gt;, and its element type.</summary>
    public static bool IsArrayView(ITypeSymbol? type, out ITypeSymbol element)
    {
        if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named && IsRuntimeType(named, "ArrayView"))
        {
            element = named.TypeArguments[0];
            return true;
        }

        element = null!;
        return false;
    }

    public static bool IsKernelHelper(IMethodSymbol method)
    {
        foreach (var attribute in method.OriginalDefinition.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == KernelHelperAttribute)
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsBarrier(IMethodSymbol? method) =>
        method is not null && method.Name == "Barrier" && IsRuntimeType(method.ContainingType, "Group");

    /// <summary>Whether <paramref name="node"/> contains a call of Group.Barrier().</summary>
    public static bool ContainsBarrier(SyntaxNode node, SemanticModel model)
    {
        foreach (var invocation in node.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>())
        {
            if (IsBarrierCall(invocation, model))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsBarrierCall(InvocationExpressionSyntax invocation, SemanticModel model)
    {
        string? name = invocation.Expression switch
        {
            MemberAccessExpressionSyntax m => m.Name.Identifier.ValueText,
            IdentifierNameSyntax i => i.Identifier.ValueText,
            _ => null,
        };
        return name == "Barrier" && IsBarrier(model.GetSymbolInfo(invocation).Symbol as IMethodSymbol);
    }

    /// <summary>The element type's name in <see cref="Runtime"/>'s KernelElementType, or null if a view may not hold it.</summary>
    public static string? ElementTypeName(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Single => "Float32",
        SpecialType.System_Int32 => "Int32",
        SpecialType.System_UInt32 => "UInt32",
        SpecialType.System_Int64 => "Int64",
        _ => null,
    };

    public static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
