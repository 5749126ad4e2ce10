using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// Emits the C# that runs one work-group of a kernel with barriers on one thread, the way PoCL compiles OpenCL for
/// CPUs: the body is cut at its <c>Group.Barrier()</c> calls, each stretch between barriers becomes a loop over the
/// group's work-items, and a local that one stretch writes and a later stretch reads becomes a per-work-item array.
/// An <c>if</c> or loop that contains a barrier is entered by a vote of all work-items, which must agree (as on a GPU).
/// The generated method calls <c>GpuTransformer.Runtime.Emulator.WorkGroupLoop</c>.
/// </summary>
internal sealed class WorkItemLoopEmitter
{
    private readonly SemanticModel model;
    private readonly MethodDeclarationSyntax method;
    private readonly List<DiagnosticInfo> diagnostics;
    private readonly Dictionary<ISymbol, int> laneSlots = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, List<IdentifierNameSyntax>> references = new(SymbolEqualityComparer.Default);
    private readonly StringBuilder text = new();
    private readonly List<LocalDeclarationStatementSyntax> hoistedConstants = [];
    private int indent;
    private int labels;

    public WorkItemLoopEmitter(SemanticModel model, MethodDeclarationSyntax method, List<DiagnosticInfo> diagnostics)
    {
        this.model = model;
        this.method = method;
        this.diagnostics = diagnostics;
    }

    public string Emit(IMethodSymbol symbol, string argumentsType, string groupMethod)
    {
        var body = method.Body!;
        foreach (var identifier in body.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (model.GetSymbolInfo(identifier).Symbol is ISymbol target && target is ILocalSymbol or IParameterSymbol)
            {
                if (!references.TryGetValue(target, out var list))
                {
                    references[target] = list = [];
                }

                list.Add(identifier);
            }
        }

        foreach (var parameter in symbol.Parameters)
        {
            if (IsWritten(parameter))
            {
                AddLane(parameter);
            }
        }

        Classify(body.Statements);
        foreach (var local in laneSlots.Keys.OfType<ILocalSymbol>())
        {
            if (local.IsRef)
            {
                var declaration = local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
                diagnostics.Add(DiagnosticInfo.Create(KernelDiagnostics.RefLocal, declaration ?? method, local.Name + " (used on both sides of a Group.Barrier())"));
            }
        }

        indent = 2;
        text.Append($"    private static void {groupMethod}(in {argumentsType} __a, global::GpuTransformer.Runtime.Emulator.WorkGroupLoop __g)\n    {{\n");
        foreach (var parameter in symbol.Parameters)
        {
            if (!laneSlots.ContainsKey(parameter))
            {
                Line($"var {KernelSymbols.EscapeIdentifier(parameter.Name)} = __a.{KernelSymbols.EscapeIdentifier(parameter.Name)};");
            }
        }

        foreach (var pair in laneSlots.OrderBy(p => p.Value))
        {
            var type = pair.Key is ILocalSymbol local ? local.Type : ((IParameterSymbol)pair.Key).Type;
            Line($"var __lv{pair.Value} = __g.LaneArray<{type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}>({pair.Value});");
        }

        foreach (var constant in hoistedConstants)
        {
            Line(constant.NormalizeWhitespace().ToFullString());
        }

        var writtenParameters = symbol.Parameters.Where(laneSlots.ContainsKey).ToList();
        if (writtenParameters.Count > 0)
        {
            OpenLaneLoop();
            foreach (var parameter in writtenParameters)
            {
                Line($"__lv{laneSlots[parameter]}[__lane] = __a.{KernelSymbols.EscapeIdentifier(parameter.Name)};");
            }

            CloseLaneLoop(null);
        }

        List(body.Statements);
        text.Append("    }\n");
        return text.ToString();
    }

    private bool IsWritten(ISymbol symbol)
    {
        if (!references.TryGetValue(symbol, out var uses))
        {
            return false;
        }

        foreach (var use in uses)
        {
            var parent = use.Parent;
            if (parent is AssignmentExpressionSyntax assignment && assignment.Left == use)
            {
                return true;
            }

            if (parent is PrefixUnaryExpressionSyntax or PostfixUnaryExpressionSyntax && (parent.IsKind(SyntaxKind.PreIncrementExpression) || parent.IsKind(SyntaxKind.PreDecrementExpression) || parent.IsKind(SyntaxKind.PostIncrementExpression) || parent.IsKind(SyntaxKind.PostDecrementExpression)))
            {
                return true;
            }
        }

        return false;
    }

    private void AddLane(ISymbol symbol)
    {
        if (!laneSlots.ContainsKey(symbol))
        {
            laneSlots[symbol] = laneSlots.Count;
        }
    }

    private bool HasBarrier(SyntaxNode node) => KernelSymbols.ContainsBarrier(node, model);

    private static IReadOnlyList<StatementSyntax> AsList(StatementSyntax statement) =>
        statement is BlockSyntax block ? block.Statements : new[] { statement };

    /// <summary>Splits a statement list into runs of barrier-free statements and single statements with barriers.</summary>
    private List<(bool Barrier, List<StatementSyntax> Statements)> Split(IReadOnlyList<StatementSyntax> statements)
    {
        var parts = new List<(bool, List<StatementSyntax>)>();
        List<StatementSyntax>? run = null;
        foreach (var statement in statements)
        {
            if (HasBarrier(statement))
            {
                run = null;
                parts.Add((true, [statement]));
            }
            else
            {
                if (run is null)
                {
                    run = [];
                    parts.Add((false, run));
                }

                run.Add(statement);
            }
        }

        return parts;
    }

    /// <summary>Marks the locals that must live per work-item: declared in a run and used outside it, or in a loop header with a barrier.</summary>
    private void Classify(IReadOnlyList<StatementSyntax> statements)
    {
        foreach (var (barrier, run) in Split(statements))
        {
            if (!barrier)
            {
                int start = run[0].SpanStart, end = run[run.Count - 1].Span.End;
                foreach (var declaration in run.OfType<LocalDeclarationStatementSyntax>())
                {
                    if (declaration.IsConst)
                    {
                        // Constants keep their constant-ness (array lengths need it): declared once at the top.
                        hoistedConstants.Add(declaration);
                        continue;
                    }

                    foreach (var declarator in declaration.Declaration.Variables)
                    {
                        var local = model.GetDeclaredSymbol(declarator)!;
                        if (references.TryGetValue(local, out var uses) && uses.Any(u => u.SpanStart < start || u.Span.End > end))
                        {
                            AddLane(local);
                        }
                    }
                }

                continue;
            }

            switch (run[0])
            {
                case BlockSyntax block:
                    Classify(block.Statements);
                    break;
                case IfStatementSyntax ifStatement:
                    Classify(AsList(ifStatement.Statement));
                    if (ifStatement.Else is { } elseClause)
                    {
                        Classify(AsList(elseClause.Statement));
                    }

                    break;
                case ForStatementSyntax forStatement:
                    foreach (var declarator in forStatement.Declaration?.Variables ?? default)
                    {
                        AddLane(model.GetDeclaredSymbol(declarator)!);
                    }

                    Classify(AsList(forStatement.Statement));
                    break;
                case WhileStatementSyntax whileStatement:
                    Classify(AsList(whileStatement.Statement));
                    break;
                case DoStatementSyntax doStatement:
                    Classify(AsList(doStatement.Statement));
                    break;
            }
        }
    }

    private void Line(string line) => (line.Length == 0 ? text : text.Append(' ', indent * 4)).Append(line).Append('\n');

    private void OpenLaneLoop()
    {
        Line("for (int __lane = 0; __lane < __g.Size; __lane++)");
        Line("{");
        indent++;
        Line("if (!__g.BeginLane(__lane))");
        Line("{");
        Line("    continue;");
        Line("}");
        Line("");
    }

    private void CloseLaneLoop(string? label)
    {
        if (label is not null)
        {
            Line($"{label}:;");
        }

        indent--;
        Line("}");
        if (label is not null)
        {
            Line("if (__g.AllReturned)");
            Line("{");
            Line("    return;");
            Line("}");
        }

        Line("");
    }

    private void List(IReadOnlyList<StatementSyntax> statements)
    {
        foreach (var (barrier, run) in Split(statements))
        {
            if (barrier)
            {
                WithBarrier(run[0]);
            }
            else
            {
                Stretch(run);
            }
        }
    }

    private void Stretch(IReadOnlyList<StatementSyntax> statements)
    {
        string label = "__end" + labels++;
        var rewriter = new LaneRewriter(this, label);
        var lines = new List<string>();
        foreach (var statement in statements)
        {
            if (statement is LocalDeclarationStatementSyntax { IsConst: true } constant && hoistedConstants.Contains(constant))
            {
                continue;
            }

            if (statement is LocalDeclarationStatementSyntax declaration)
            {
                foreach (var declarator in declaration.Declaration.Variables)
                {
                    var local = (ILocalSymbol)model.GetDeclaredSymbol(declarator)!;
                    string? initial = declarator.Initializer is null ? null : rewriter.Visit(declarator.Initializer.Value)!.NormalizeWhitespace().ToFullString();
                    if (laneSlots.TryGetValue(local, out int slot))
                    {
                        if (initial is not null)
                        {
                            lines.Add($"__lv{slot}[__lane] = {initial};");
                        }
                    }
                    else
                    {
                        string type = declaration.Declaration.Type.IsVar && !local.IsRef ? local.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) : declaration.Declaration.Type.ToString();
                        lines.Add($"{(declaration.IsConst ? "const " : "")}{type} {KernelSymbols.EscapeIdentifier(local.Name)}{(initial is null ? "" : " = " + initial)};");
                    }
                }
            }
            else
            {
                lines.Add(rewriter.Visit(statement)!.NormalizeWhitespace().ToFullString());
            }
        }

        OpenLaneLoop();
        foreach (string line in lines)
        {
            foreach (string part in line.Split('\n'))
            {
                Line(part.TrimEnd('\r'));
            }
        }

        CloseLaneLoop(rewriter.Returns ? label : null);
    }

    private void Vote(ExpressionSyntax? condition)
    {
        var rewriter = new LaneRewriter(this, "__unused");
        OpenLaneLoop();
        Line($"__g.Vote({(condition is null ? "true" : rewriter.Visit(condition)!.NormalizeWhitespace().ToFullString())});");
        CloseLaneLoop(null);
    }

    private void Block(IReadOnlyList<StatementSyntax> statements)
    {
        Line("{");
        indent++;
        List(statements);
        indent--;
        Line("}");
    }

    private void WithBarrier(StatementSyntax statement)
    {
        switch (statement)
        {
            case BlockSyntax block:
                Block(block.Statements);
                break;
            case ExpressionStatementSyntax:
                Line("__g.Barrier();");
                break;
            case IfStatementSyntax ifStatement:
                Vote(ifStatement.Condition);
                Line("if (__g.Decide())");
                Block(AsList(ifStatement.Statement));
                if (ifStatement.Else is { } elseClause)
                {
                    Line("else");
                    Block(AsList(elseClause.Statement));
                }

                break;
            case ForStatementSyntax forStatement:
                var setup = new List<StatementSyntax>();
                if (forStatement.Declaration is { } declaration)
                {
                    setup.Add(SyntaxFactory.LocalDeclarationStatement(declaration));
                }

                setup.AddRange(forStatement.Initializers.Select(SyntaxFactory.ExpressionStatement));
                Line("{");
                indent++;
                if (setup.Count > 0)
                {
                    StretchOfOriginal(forStatement, setup);
                }

                Line("while (true)");
                Line("{");
                indent++;
                Vote(forStatement.Condition);
                Line("if (!__g.Decide())");
                Line("{");
                Line("    break;");
                Line("}");
                Line("");
                List(AsList(forStatement.Statement));
                if (forStatement.Incrementors.Count > 0)
                {
                    var rewriter = new LaneRewriter(this, "__unused");
                    OpenLaneLoop();
                    foreach (var incrementor in forStatement.Incrementors)
                    {
                        Line(rewriter.Visit(incrementor)!.NormalizeWhitespace().ToFullString() + ";");
                    }

                    CloseLaneLoop(null);
                }

                indent--;
                Line("}");
                indent--;
                Line("}");
                break;
            case WhileStatementSyntax whileStatement:
                Line("while (true)");
                Line("{");
                indent++;
                Vote(whileStatement.Condition);
                Line("if (!__g.Decide())");
                Line("{");
                Line("    break;");
                Line("}");
                Line("");
                List(AsList(whileStatement.Statement));
                indent--;
                Line("}");
                break;
            case DoStatementSyntax doStatement:
                Line("while (true)");
                Line("{");
                indent++;
                List(AsList(doStatement.Statement));
                Vote(doStatement.Condition);
                Line("if (!__g.Decide())");
                Line("{");
                Line("    break;");
                Line("}");
                indent--;
                Line("}");
                break;
            default:
                // The C translation reports the construct; nothing sensible to emulate.
                Line("throw new global::System.NotSupportedException();");
                break;
        }
    }

    /// <summary>A for loop's initialisers: their declarators are all per-work-item, so they become assignments.</summary>
    private void StretchOfOriginal(ForStatementSyntax forStatement, List<StatementSyntax> synthesized)
    {
        var rewriter = new LaneRewriter(this, "__unused");
        OpenLaneLoop();
        if (forStatement.Declaration is { } declaration)
        {
            foreach (var declarator in declaration.Variables)
            {
                var local = model.GetDeclaredSymbol(declarator)!;
                if (declarator.Initializer is not null)
                {
                    Line($"__lv{laneSlots[local]}[__lane] = {rewriter.Visit(declarator.Initializer.Value)!.NormalizeWhitespace().ToFullString()};");
                }
            }
        }

        foreach (var initializer in forStatement.Initializers)
        {
            Line(rewriter.Visit(initializer)!.NormalizeWhitespace().ToFullString() + ";");
        }

        _ = synthesized;
        CloseLaneLoop(null);
    }

    /// <summary>Rewrites one work-item's statements: per-work-item locals become array elements, return ends the work-item.</summary>
    private sealed class LaneRewriter : CSharpSyntaxRewriter
    {
        private readonly WorkItemLoopEmitter owner;
        private readonly string label;

        public LaneRewriter(WorkItemLoopEmitter owner, string label)
        {
            this.owner = owner;
            this.label = label;
        }

        public bool Returns { get; private set; }

        public override SyntaxNode? VisitIdentifierName(IdentifierNameSyntax node)
        {
            if (owner.model.GetSymbolInfo(node).Symbol is ISymbol symbol && owner.laneSlots.TryGetValue(symbol, out int slot))
            {
                return SyntaxFactory.ParseExpression($"__lv{slot}[__lane]").WithTriviaFrom(node);
            }

            return base.VisitIdentifierName(node);
        }

        public override SyntaxNode? VisitReturnStatement(ReturnStatementSyntax node)
        {
            Returns = true;
            return SyntaxFactory.ParseStatement($"{{ __g.Return(__lane); goto {label}; }}");
        }

        public override SyntaxNode? VisitLocalDeclarationStatement(LocalDeclarationStatementSyntax node)
        {
            var visited = (LocalDeclarationStatementSyntax)base.VisitLocalDeclarationStatement(node)!;
            if (node.Declaration.Type.IsVar)
            {
                // Nested declarations keep their own scope; spell the type out so the generated file needs no usings for it.
                var first = owner.model.GetDeclaredSymbol(node.Declaration.Variables[0]) as ILocalSymbol;
                if (first is not null && !first.IsRef)
                {
                    return visited.WithDeclaration(visited.Declaration.WithType(SyntaxFactory.ParseTypeName(first.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)).WithTriviaFrom(visited.Declaration.Type)));
                }
            }

            return visited;
        }
    }
}
