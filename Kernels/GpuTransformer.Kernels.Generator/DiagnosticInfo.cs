using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// A diagnostic kept as plain values (descriptor id, message arguments, file and span) rather than a
/// <see cref="Diagnostic"/>, whose <see cref="Location"/> holds the syntax tree and would defeat caching.
/// </summary>
internal sealed record DiagnosticInfo(string Id, string Argument, string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SyntaxNode node, string argument)
    {
        var location = node.GetLocation();
        return new DiagnosticInfo(descriptor.Id, argument, node.SyntaxTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SyntaxToken token, string argument)
    {
        var location = token.GetLocation();
        return new DiagnosticInfo(descriptor.Id, argument, token.SyntaxTree?.FilePath ?? "", location.SourceSpan, location.GetLineSpan().Span);
    }

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(KernelDiagnostics.ById(Id), Location.Create(FilePath, Span, LineSpan), Argument);
}
