using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// Translates one kernel or helper method to a C function in one dialect. It walks the C# syntax with the semantic
/// model, so every value has its C# type: implicit conversions become explicit casts, constants (including const
/// fields of any type) become literals with their exact value, and C# names get a trailing underscore so that they
/// can never collide with C builtins (a local called <c>log</c> or <c>max</c>) or with the <c>_base</c>,
/// <c>_offset</c> and <c>_length</c> names of view parameters. Anything the kernel language lacks is reported at its
/// syntax node (when <c>diagnostics</c> is given) and translated to a placeholder.
/// </summary>
internal sealed class CTranslator
{
    private readonly SemanticModel model;
    private readonly CDialect dialect;
    private readonly List<DiagnosticInfo>? diagnostics;
    private readonly StringBuilder text = new();
    private readonly Dictionary<ISymbol, ViewInfo> views = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> refPointers = new(SymbolEqualityComparer.Default);
    private readonly Stack<bool> loopsWithBarrier = new();
    private readonly HashSet<SyntaxNode> reported = new();
    private BlockSyntax? kernelBody;
    private int indent;

    public CTranslator(SemanticModel model, CDialect dialect, List<DiagnosticInfo>? diagnostics)
    {
        this.model = model;
        this.dialect = dialect;
        this.diagnostics = diagnostics;
    }

    private enum ViewKind
    {
        Parameter,
        Shared,
        Private,
    }

    /// <summary>C names of the helpers the method calls directly.</summary>
    public SortedSet<string> CalledHelpers { get; } = new(StringComparer.Ordinal);

    public bool UsesBarriers { get; private set; }

    public int SharedMemoryBytes { get; private set; }

    private string Int64 => dialect == CDialect.Cuda ? "long long" : "long";

    /// <summary>The C name of a helper method.</summary>
    public static string HelperName(IMethodSymbol method)
    {
        var name = new StringBuilder("gt_");
        foreach (var type in ContainingTypes(method.ContainingType))
        {
            name.Append(type.Name).Append('_');
        }

        name.Append(method.Name);
        foreach (var parameter in method.Parameters)
        {
            name.Append('_').Append(parameter.Type.SpecialType switch
            {
                SpecialType.System_Single => "f",
                SpecialType.System_Int32 => "i",
                SpecialType.System_UInt32 => "u",
                SpecialType.System_Int64 => "l",
                SpecialType.System_UInt64 => "ul",
                SpecialType.System_Boolean => "b",
                _ => "x",
            });
        }

        return name.ToString();
    }

    public static IEnumerable<INamedTypeSymbol> ContainingTypes(INamedTypeSymbol type)
    {
        var chain = new List<INamedTypeSymbol>();
        for (var t = type; t is not null; t = t.ContainingType)
        {
            chain.Insert(0, t);
        }

        return chain;
    }

    /// <summary>Translates a [Kernel] method to an entry point named <paramref name="entryName"/>.</summary>
    public string TranslateKernel(MethodDeclarationSyntax method, IMethodSymbol symbol, string entryName)
    {
        kernelBody = method.Body;
        var parameters = new List<string>();
        var prologue = new List<string>();
        foreach (var parameter in symbol.Parameters)
        {
            string name = Name(parameter);
            if (KernelSymbols.IsArrayView(parameter.Type, out var element))
            {
                string type = ScalarType(element, method);
                views[parameter] = new ViewInfo(ViewKind.Parameter, 0);
                if (dialect == CDialect.OpenCL)
                {
                    parameters.Add($"__global {type}* {parameter.Name}_base, int {parameter.Name}_offset, int {parameter.Name}_length");
                    prologue.Add($"__global {type}* {name} = {parameter.Name}_base + {parameter.Name}_offset;");
                }
                else
                {
                    parameters.Add($"{type}* {name}, int {parameter.Name}_length");
                }
            }
            else
            {
                parameters.Add($"{ScalarType(parameter.Type, method)} {name}");
            }
        }

        string qualifier = dialect == CDialect.OpenCL ? "__kernel void" : "extern \"C\" __global__ void";
        text.Append(qualifier).Append(' ').Append(entryName).Append('(').Append(string.Join(", ", parameters)).Append(")\n{\n");
        indent = 1;
        foreach (string line in prologue)
        {
            Line(line);
        }

        Body(method);
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>Translates a [KernelHelper] method; returns the definition and sets <paramref name="prototype"/>.</summary>
    public string TranslateHelper(MethodDeclarationSyntax method, IMethodSymbol symbol, out string prototype)
    {
        string returns = symbol.ReturnsVoid ? "void" : ScalarType(symbol.ReturnType, method.ReturnType);
        var parameters = symbol.Parameters.Select(p => $"{ScalarType(p.Type, method)} {Name(p)}");
        prototype = $"GT_FN {returns} {HelperName(symbol)}({(symbol.Parameters.Length == 0 ? "void" : string.Join(", ", parameters))})";
        text.Append(prototype).Append("\n{\n");
        indent = 1;
        Body(method);
        text.Append("}\n");
        prototype += ";";
        return text.ToString();
    }

    private static string Name(ISymbol symbol) => symbol.Name + "_";

    private void Body(MethodDeclarationSyntax method)
    {
        if (method.Body is { } body)
        {
            foreach (var statement in body.Statements)
            {
                Statement(statement);
            }
        }
        else if (method.ExpressionBody is { } arrow)
        {
            var symbol = model.GetDeclaredSymbol(method);
            Line(symbol?.ReturnsVoid == true ? Expression(arrow.Expression) + ";" : "return " + Expression(arrow.Expression) + ";");
        }
    }

    private void Line(string line)
    {
        text.Append(' ', indent * 4).Append(line).Append('\n');
    }

    private void Report(DiagnosticDescriptor descriptor, SyntaxNode node, string argument)
    {
        if (diagnostics is not null && reported.Add(node))
        {
            diagnostics.Add(DiagnosticInfo.Create(descriptor, node, argument));
        }
    }

    private static string Shorten(SyntaxNode node)
    {
        string s = node.ToString().Replace("\r", " ").Replace("\n", " ");
        while (s.Contains("  "))
        {
            s = s.Replace("  ", " ");
        }

        return s.Length > 60 ? s.Substring(0, 57) + "..." : s;
    }

    // ---- statements ----

    private void Statement(StatementSyntax statement)
    {
        switch (statement)
        {
            case BlockSyntax block:
                Line("{");
                indent++;
                foreach (var s in block.Statements)
                {
                    Statement(s);
                }

                indent--;
                Line("}");
                break;
            case LocalDeclarationStatementSyntax declaration:
                LocalDeclaration(declaration);
                break;
            case ExpressionStatementSyntax expression:
                ExpressionStatement(expression);
                break;
            case IfStatementSyntax ifStatement:
                Line($"if ({TopExpression(ifStatement.Condition)})");
                Embedded(ifStatement.Statement);
                if (ifStatement.Else is { } elseClause)
                {
                    Line("else");
                    Embedded(elseClause.Statement);
                }

                break;
            case ForStatementSyntax forStatement:
                For(forStatement);
                break;
            case WhileStatementSyntax whileStatement:
                Line($"while ({TopExpression(whileStatement.Condition)})");
                Loop(whileStatement.Statement);
                break;
            case DoStatementSyntax doStatement:
                Line("do");
                Loop(doStatement.Statement);
                Line($"while ({TopExpression(doStatement.Condition)});");
                break;
            case BreakStatementSyntax:
            case ContinueStatementSyntax:
                if (loopsWithBarrier.Count > 0 && loopsWithBarrier.Peek())
                {
                    Report(KernelDiagnostics.BarrierPlacement, statement, Shorten(statement));
                }

                Line(statement is BreakStatementSyntax ? "break;" : "continue;");
                break;
            case ReturnStatementSyntax returnStatement:
                Line(returnStatement.Expression is null ? "return;" : $"return {Expression(returnStatement.Expression)};");
                break;
            case EmptyStatementSyntax:
                Line(";");
                break;
            case ForEachStatementSyntax or ForEachVariableStatementSyntax:
                Report(KernelDiagnostics.Foreach, statement, "foreach");
                break;
            case TryStatementSyntax:
                Report(KernelDiagnostics.Exceptions, statement, "try");
                break;
            case ThrowStatementSyntax:
                Report(KernelDiagnostics.Exceptions, statement, "throw");
                break;
            case LocalFunctionStatementSyntax localFunction:
                Report(KernelDiagnostics.Linq, statement, "local function " + localFunction.Identifier.ValueText);
                break;
            default:
                Report(KernelDiagnostics.UnsupportedStatement, statement, StatementKeyword(statement));
                break;
        }
    }

    private static string StatementKeyword(StatementSyntax statement) => statement switch
    {
        SwitchStatementSyntax => "switch",
        GotoStatementSyntax => "goto",
        LabeledStatementSyntax => "labeled",
        LockStatementSyntax => "lock",
        UsingStatementSyntax => "using",
        FixedStatementSyntax => "fixed",
        UnsafeStatementSyntax => "unsafe",
        CheckedStatementSyntax c => c.Keyword.ValueText,
        YieldStatementSyntax => "yield",
        _ => statement.Kind().ToString(),
    };

    private void Embedded(StatementSyntax statement)
    {
        if (statement is BlockSyntax)
        {
            Statement(statement);
        }
        else
        {
            Line("{");
            indent++;
            Statement(statement);
            indent--;
            Line("}");
        }
    }

    private void Loop(StatementSyntax body)
    {
        loopsWithBarrier.Push(KernelSymbols.ContainsBarrier(body, model));
        Embedded(body);
        loopsWithBarrier.Pop();
    }

    private void For(ForStatementSyntax forStatement)
    {
        string init = "";
        if (forStatement.Declaration is { } declaration)
        {
            string type = ScalarType(model.GetTypeInfo(declaration.Type).Type, declaration.Type);
            init = type + " " + string.Join(", ", declaration.Variables.Select(Declarator));
        }
        else if (forStatement.Initializers.Count > 0)
        {
            init = string.Join(", ", forStatement.Initializers.Select(TopExpression));
        }

        string condition = forStatement.Condition is null ? "" : TopExpression(forStatement.Condition);
        string increment = string.Join(", ", forStatement.Incrementors.Select(TopExpression));
        Line($"for ({init}; {condition}; {increment})");
        loopsWithBarrier.Push(KernelSymbols.ContainsBarrier(forStatement.Statement, model) || (forStatement.Condition is { } c && KernelSymbols.ContainsBarrier(c, model)));
        Embedded(forStatement.Statement);
        loopsWithBarrier.Pop();
    }

    private string Declarator(VariableDeclaratorSyntax declarator)
    {
        var symbol = model.GetDeclaredSymbol(declarator)!;
        return declarator.Initializer is null ? Name(symbol) : $"{Name(symbol)} = {Expression(declarator.Initializer.Value)}";
    }

    private void LocalDeclaration(LocalDeclarationStatementSyntax declaration)
    {
        if (declaration.UsingKeyword.IsKind(SyntaxKind.UsingKeyword))
        {
            Report(KernelDiagnostics.UnsupportedStatement, declaration, "using");
            return;
        }

        var typeSyntax = declaration.Declaration.Type;
        if (typeSyntax is RefTypeSyntax refType)
        {
            RefLocals(declaration, refType);
            return;
        }

        var type = model.GetTypeInfo(typeSyntax).Type;
        if (KernelSymbols.IsArrayView(type, out var element))
        {
            foreach (var declarator in declaration.Declaration.Variables)
            {
                ViewLocal(declaration, declarator, element);
            }

            return;
        }

        string prefix = declaration.IsConst ? "const " : "";
        Line($"{prefix}{ScalarType(type, typeSyntax)} {string.Join(", ", declaration.Declaration.Variables.Select(Declarator))};");
    }

    private void ViewLocal(LocalDeclarationStatementSyntax declaration, VariableDeclaratorSyntax declarator, ITypeSymbol element)
    {
        var symbol = model.GetDeclaredSymbol(declarator)!;
        if (declarator.Initializer?.Value is InvocationExpressionSyntax call
            && model.GetSymbolInfo(call).Symbol is IMethodSymbol method
            && method.Name == "Allocate"
            && (KernelSymbols.IsRuntimeType(method.ContainingType, "SharedMemory") || KernelSymbols.IsRuntimeType(method.ContainingType, "LocalMemory")))
        {
            bool shared = method.ContainingType.Name == "SharedMemory";
            var length = call.ArgumentList.Arguments.Count == 1 ? model.GetConstantValue(call.ArgumentList.Arguments[0].Expression) : default;
            bool topLevel = declaration.Parent == kernelBody && kernelBody is not null;
            if (!length.HasValue || length.Value is not int count || count <= 0 || (shared && !topLevel))
            {
                Report(KernelDiagnostics.MemoryAllocation, call, Shorten(call));
                views[symbol] = new ViewInfo(ViewKind.Private, 1); // so that uses of the local report nothing more
                return;
            }

            string type = ScalarType(element, declarator);
            views[symbol] = new ViewInfo(shared ? ViewKind.Shared : ViewKind.Private, count);
            if (shared)
            {
                SharedMemoryBytes += count * (element.SpecialType is SpecialType.System_Int64 or SpecialType.System_UInt64 ? 8 : 4);
                Line($"{(dialect == CDialect.OpenCL ? "__local" : "__shared__")} {type} {Name(symbol)}[{count}];");
            }
            else
            {
                Line($"{type} {Name(symbol)}[{count}];");
            }

            return;
        }

        Report(KernelDiagnostics.MemoryAllocation, (SyntaxNode?)declarator.Initializer?.Value ?? declarator, Shorten(declarator));
        views[symbol] = new ViewInfo(ViewKind.Private, 1);
    }

    private void RefLocals(LocalDeclarationStatementSyntax declaration, RefTypeSyntax refType)
    {
        var type = model.GetTypeInfo(refType.Type).Type;
        foreach (var declarator in declaration.Declaration.Variables)
        {
            var symbol = model.GetDeclaredSymbol(declarator)!;
            if (declarator.Initializer?.Value is RefExpressionSyntax { Expression: ElementAccessExpressionSyntax access }
                && ViewOf(access.Expression) is { Kind: not ViewKind.Parameter } view)
            {
                refPointers.Add(symbol);
                string space = view.Kind == ViewKind.Shared && dialect == CDialect.OpenCL ? "__local " : "";
                Line($"{space}{ScalarType(type, refType)}* {Name(symbol)} = &{ElementAccess(access)};");
            }
            else
            {
                Report(KernelDiagnostics.RefLocal, (SyntaxNode?)declarator.Initializer?.Value ?? declarator, Shorten(declarator));
            }
        }
    }

    private void ExpressionStatement(ExpressionStatementSyntax statement)
    {
        if (statement.Expression is InvocationExpressionSyntax invocation && KernelSymbols.IsBarrierCall(invocation, model))
        {
            if (kernelBody is null)
            {
                Report(KernelDiagnostics.BarrierPlacement, invocation, Shorten(invocation));
                return;
            }

            UsesBarriers = true;
            Line(dialect == CDialect.OpenCL ? "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);" : "__syncthreads();");
            return;
        }

        Line(TopExpression(statement.Expression) + ";");
    }

    // ---- expressions ----

    /// <summary>An expression whose value is not used (statement, for-incrementor): no outer parentheses.</summary>
    private string TopExpression(ExpressionSyntax expression)
    {
        string s = Expression(expression);
        return s.Length > 2 && s[0] == '(' && s[s.Length - 1] == ')' && Balanced(s.Substring(1, s.Length - 2)) ? s.Substring(1, s.Length - 2) : s;
    }

    private static bool Balanced(string s)
    {
        int depth = 0;
        foreach (char c in s)
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (depth < 0)
            {
                return false;
            }
        }

        return depth == 0;
    }

    /// <summary>The C for <paramref name="expression"/>, converted to the type C# converts it to.</summary>
    private string Expression(ExpressionSyntax expression)
    {
        var info = model.GetTypeInfo(expression);
        string raw = RawExpression(expression, info.Type);
        if (info.Type is { } from && info.ConvertedType is { } to && !SymbolEqualityComparer.Default.Equals(from, to) && IsNumeric(from) && IsNumeric(to) && to.SpecialType != SpecialType.System_Double)
        {
            // The target type was reported where it was declared, if it is not supported.
            return QuietScalarType(to) is { } name ? $"(({name})({raw}))" : raw;
        }

        return raw;
    }

    private static bool IsNumeric(ITypeSymbol type) => type.SpecialType is SpecialType.System_Single or SpecialType.System_Int32
        or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Double
        or SpecialType.System_Int16 or SpecialType.System_UInt16 or SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Char;

    private string RawExpression(ExpressionSyntax expression, ITypeSymbol? type)
    {
        if (type?.SpecialType == SpecialType.System_Double && expression is LiteralExpressionSyntax or IdentifierNameSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax or CastExpressionSyntax)
        {
            Report(KernelDiagnostics.DoublePrecision, expression, Shorten(expression));
            return "0";
        }

        var constant = model.GetConstantValue(expression);
        if (constant.HasValue && expression is not AssignmentExpressionSyntax)
        {
            return Literal(constant.Value, expression);
        }

        switch (expression)
        {
            case ParenthesizedExpressionSyntax parenthesized:
                return "(" + Expression(parenthesized.Expression) + ")";
            case IdentifierNameSyntax identifier:
                return Identifier(identifier);
            case MemberAccessExpressionSyntax member:
                return MemberAccess(member);
            case ElementAccessExpressionSyntax access:
                return ElementAccess(access);
            case InvocationExpressionSyntax invocation:
                return Invocation(invocation);
            case BinaryExpressionSyntax binary:
                return Binary(binary);
            case AssignmentExpressionSyntax assignment:
                return Assignment(assignment);
            case ConditionalExpressionSyntax conditional:
                return $"({Expression(conditional.Condition)} ? {Expression(conditional.WhenTrue)} : {Expression(conditional.WhenFalse)})";
            case PrefixUnaryExpressionSyntax prefix:
                return Prefix(prefix);
            case PostfixUnaryExpressionSyntax postfix:
                if (postfix.IsKind(SyntaxKind.SuppressNullableWarningExpression))
                {
                    return Expression(postfix.Operand);
                }

                return $"({Expression(postfix.Operand)}{postfix.OperatorToken.ValueText})";
            case CastExpressionSyntax cast:
                var target = model.GetTypeInfo(cast.Type).Type;
                return $"(({ScalarType(target, cast.Type)})({Expression(cast.Expression)}))";
            case ObjectCreationExpressionSyntax or ImplicitObjectCreationExpressionSyntax or ArrayCreationExpressionSyntax
                or ImplicitArrayCreationExpressionSyntax or StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax
                or CollectionExpressionSyntax or AnonymousObjectCreationExpressionSyntax or InitializerExpressionSyntax:
                Report(KernelDiagnostics.Allocation, expression, Shorten(expression));
                return "0";
            case InterpolatedStringExpressionSyntax:
                Report(KernelDiagnostics.Strings, expression, Shorten(expression));
                return "0";
            case LambdaExpressionSyntax or AnonymousMethodExpressionSyntax or QueryExpressionSyntax:
                Report(KernelDiagnostics.Linq, expression, Shorten(expression));
                return "0";
            case ThrowExpressionSyntax:
                Report(KernelDiagnostics.Exceptions, expression, Shorten(expression));
                return "0";
            case RefExpressionSyntax:
                Report(KernelDiagnostics.RefLocal, expression, Shorten(expression));
                return "0";
            case LiteralExpressionSyntax literal when literal.IsKind(SyntaxKind.StringLiteralExpression) || literal.IsKind(SyntaxKind.CharacterLiteralExpression):
                Report(KernelDiagnostics.Strings, expression, Shorten(expression));
                return "0";
            default:
                Report(KernelDiagnostics.UnsupportedExpression, expression, Shorten(expression));
                return "0";
        }
    }

    private string Literal(object? value, ExpressionSyntax at)
    {
        switch (value)
        {
            case float f:
                return FloatLiteral(f);
            case int i:
                return i == int.MinValue ? "(-2147483647 - 1)" : i < 0 ? $"({i.ToString(CultureInfo.InvariantCulture)})" : i.ToString(CultureInfo.InvariantCulture);
            case uint u:
                return u.ToString(CultureInfo.InvariantCulture) + "u";
            case long l:
                string suffix = dialect == CDialect.Cuda ? "LL" : "L";
                return l == long.MinValue ? $"(-9223372036854775807{suffix} - 1{suffix})" : l < 0 ? $"({l.ToString(CultureInfo.InvariantCulture)}{suffix})" : l.ToString(CultureInfo.InvariantCulture) + suffix;
            case ulong ul:
                return ul.ToString(CultureInfo.InvariantCulture) + (dialect == CDialect.Cuda ? "ULL" : "UL");
            case bool b:
                return b ? "true" : "false";
            case double:
                Report(KernelDiagnostics.DoublePrecision, at, Shorten(at));
                return "0";
            case string or char:
                Report(KernelDiagnostics.Strings, at, Shorten(at));
                return "0";
            case short or ushort or byte or sbyte:
                return Convert.ToInt32(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
            default:
                Report(KernelDiagnostics.UnsupportedExpression, at, Shorten(at));
                return "0";
        }
    }

    /// <summary>A float literal that parses back to exactly <paramref name="value"/>.</summary>
    private string FloatLiteral(float value)
    {
        if (float.IsNaN(value))
        {
            return dialect == CDialect.OpenCL ? "NAN" : "__int_as_float(0x7fffffff)";
        }

        if (float.IsInfinity(value))
        {
            bool negative = value < 0;
            return dialect == CDialect.OpenCL ? (negative ? "(-INFINITY)" : "INFINITY") : (negative ? "__int_as_float((int)0xff800000u)" : "__int_as_float(0x7f800000)");
        }

        string s = value.ToString("R", CultureInfo.InvariantCulture);
        if (float.Parse(s, CultureInfo.InvariantCulture) != value || (value == 0 && s != (BitConverter.DoubleToInt64Bits(value) < 0 ? "-0" : "0")))
        {
            s = value.ToString("G9", CultureInfo.InvariantCulture);
        }

        if (s.IndexOf('.') < 0 && s.IndexOf('E') < 0)
        {
            s += ".0";
        }

        s += "f";
        return s[0] == '-' ? "(" + s + ")" : s;
    }

    private string Identifier(IdentifierNameSyntax identifier)
    {
        var symbol = model.GetSymbolInfo(identifier).Symbol;
        switch (symbol)
        {
            case ILocalSymbol local:
                return refPointers.Contains(local) ? $"(*{Name(local)})" : Name(local);
            case IParameterSymbol parameter:
                return Name(parameter);
            case IFieldSymbol field:
                Report(KernelDiagnostics.FieldAccess, identifier, field.Name);
                return "0";
            default:
                Report(KernelDiagnostics.UnsupportedExpression, identifier, identifier.Identifier.ValueText);
                return "0";
        }
    }

    private ViewInfo? ViewOf(ExpressionSyntax expression)
    {
        var symbol = model.GetSymbolInfo(expression is ParenthesizedExpressionSyntax p ? p.Expression : expression).Symbol;
        return symbol is not null && views.TryGetValue(symbol, out var view) ? view : null;
    }

    private string MemberAccess(MemberAccessExpressionSyntax member)
    {
        var symbol = model.GetSymbolInfo(member).Symbol;
        if (symbol is IPropertySymbol property)
        {
            var owner = property.ContainingType;
            if (KernelSymbols.IsArrayView(owner, out _) && (property.Name == "Length" || property.Name == "IsEmpty"))
            {
                var receiver = model.GetSymbolInfo(member.Expression).Symbol;
                if (receiver is not null && views.TryGetValue(receiver, out var view))
                {
                    string length = view.Kind == ViewKind.Parameter ? receiver.Name + "_length" : view.Length.ToString(CultureInfo.InvariantCulture);
                    return property.Name == "Length" ? length : $"({length} == 0)";
                }
            }

            if (KernelSymbols.IsRuntimeType(owner, "Group") || KernelSymbols.IsRuntimeType(owner, "Grid"))
            {
                string? builtin = Builtin(owner.Name, property.Name);
                if (builtin is not null)
                {
                    return builtin;
                }
            }

            if (KernelSymbols.IsRuntimeType(owner, "Index3D") && member.Expression is MemberAccessExpressionSyntax inner
                && model.GetSymbolInfo(inner).Symbol is IPropertySymbol { Name: "GlobalIndex" } global && KernelSymbols.IsRuntimeType(global.ContainingType, "Grid"))
            {
                int dimension = property.Name == "X" ? 0 : property.Name == "Y" ? 1 : 2;
                return dialect == CDialect.OpenCL
                    ? $"((int)get_global_id({dimension}))"
                    : $"((int)(blockIdx.{Axis(dimension)} * blockDim.{Axis(dimension)} + threadIdx.{Axis(dimension)}))";
            }
        }

        if (symbol is IFieldSymbol field)
        {
            Report(KernelDiagnostics.FieldAccess, member, field.Name);
            return "0";
        }

        if (symbol is IPropertySymbol { IsStatic: false } || symbol is IMethodSymbol)
        {
            Report(KernelDiagnostics.VirtualCall, member, Shorten(member));
            return "0";
        }

        Report(KernelDiagnostics.UnsupportedExpression, member, Shorten(member));
        return "0";
    }

    private static string Axis(int dimension) => dimension == 0 ? "x" : dimension == 1 ? "y" : "z";

    private string? Builtin(string type, string property)
    {
        if (property.Length != 4 || (property[3] != 'X' && property[3] != 'Y' && property[3] != 'Z'))
        {
            return null;
        }

        int dimension = property[3] - 'X';
        string kind = property.Substring(0, 3);
        if (dialect == CDialect.OpenCL)
        {
            string? function = (type, kind) switch
            {
                ("Group", "Idx") => "get_local_id",
                ("Group", "Dim") => "get_local_size",
                ("Grid", "Idx") => "get_group_id",
                ("Grid", "Dim") => "get_num_groups",
                _ => null,
            };
            return function is null ? null : $"((int){function}({dimension}))";
        }

        string? variable = (type, kind) switch
        {
            ("Group", "Idx") => "threadIdx",
            ("Group", "Dim") => "blockDim",
            ("Grid", "Idx") => "blockIdx",
            ("Grid", "Dim") => "gridDim",
            _ => null,
        };
        return variable is null ? null : $"((int){variable}.{Axis(dimension)})";
    }

    private string ElementAccess(ElementAccessExpressionSyntax access)
    {
        var receiver = model.GetSymbolInfo(access.Expression).Symbol;
        if (receiver is null || !views.ContainsKey(receiver) || access.ArgumentList.Arguments.Count != 1)
        {
            // An allocation, string or call being indexed is reported as what it is; anything else as unsupported.
            int before = diagnostics?.Count ?? 0;
            Expression(access.Expression);
            if ((diagnostics?.Count ?? 0) == before)
            {
                Report(KernelDiagnostics.UnsupportedExpression, access, Shorten(access));
            }

            return "0";
        }

        var argument = access.ArgumentList.Arguments[0];
        return $"{Name(receiver)}[{Expression(argument.Expression)}]";
    }

    private string Invocation(InvocationExpressionSyntax invocation)
    {
        if (model.GetSymbolInfo(invocation).Symbol is not IMethodSymbol method)
        {
            Report(KernelDiagnostics.UnsupportedCall, invocation, Shorten(invocation.Expression));
            return "0";
        }

        foreach (var argument in invocation.ArgumentList.Arguments)
        {
            if (!argument.RefKindKeyword.IsKind(SyntaxKind.None))
            {
                Report(KernelDiagnostics.RefLocal, argument, Shorten(argument));
                return "0";
            }
        }

        if (KernelSymbols.IsBarrier(method))
        {
            Report(KernelDiagnostics.BarrierPlacement, invocation, Shorten(invocation));
            return "0";
        }

        if (KernelSymbols.IsRuntimeType(method.ContainingType, "SharedMemory") || KernelSymbols.IsRuntimeType(method.ContainingType, "LocalMemory"))
        {
            Report(KernelDiagnostics.MemoryAllocation, invocation, Shorten(invocation));
            return "0";
        }

        if (method.ContainingNamespace?.ToDisplayString() == "System.Linq")
        {
            Report(KernelDiagnostics.Linq, invocation, Shorten(invocation.Expression));
            return "0";
        }

        if (!method.IsStatic || method.MethodKind != MethodKind.Ordinary)
        {
            Report(method.MethodKind == MethodKind.LocalFunction ? KernelDiagnostics.Linq : KernelDiagnostics.VirtualCall, invocation, Shorten(invocation.Expression));
            return "0";
        }

        var arguments = invocation.ArgumentList.Arguments.Select(a => Expression(a.Expression)).ToList();
        if (KernelSymbols.IsRuntimeType(method.ContainingType, "XMath") && MathFunction(method) is { } function)
        {
            return $"{function}({string.Join(", ", arguments)})";
        }

        if (KernelSymbols.IsKernelHelper(method))
        {
            string name = HelperName(method);
            CalledHelpers.Add(name);
            return $"{name}({string.Join(", ", arguments)})";
        }

        Report(KernelDiagnostics.UnsupportedCall, invocation, method.ContainingType.Name + "." + method.Name);
        return "0";
    }

    private string? MathFunction(IMethodSymbol method)
    {
        bool cuda = dialect == CDialect.Cuda;
        var first = method.Parameters.Length > 0 ? method.Parameters[0].Type.SpecialType : SpecialType.None;
        bool isFloat = first == SpecialType.System_Single;
        switch (method.Name)
        {
            case "Exp": return cuda ? "expf" : "exp";
            case "Log": return cuda ? "logf" : "log";
            case "Sqrt": return cuda ? "sqrtf" : "sqrt";
            case "Rsqrt": return cuda ? "rsqrtf" : "rsqrt";
            case "Tanh": return cuda ? "tanhf" : "tanh";
            case "Erf": return cuda ? "erff" : "erf";
            case "Pow": return cuda ? "powf" : "pow";
            case "Floor": return cuda ? "floorf" : "floor";
            case "FusedMultiplyAdd": return cuda ? "fmaf" : "fma";
            case "IsNaN": return "gt_isnan";
            case "Abs": return isFloat ? (cuda ? "fabsf" : "fabs") : "gt_abs_i";
            case "Max": return isFloat ? (cuda ? "fmaxf" : "fmax") : first == SpecialType.System_UInt32 ? "gt_max_u" : "gt_max_i";
            case "Min": return isFloat ? (cuda ? "fminf" : "fmin") : first == SpecialType.System_UInt32 ? "gt_min_u" : "gt_min_i";
            default: return null;
        }
    }

    private string Binary(BinaryExpressionSyntax binary)
    {
        switch (binary.Kind())
        {
            case SyntaxKind.IsExpression:
            case SyntaxKind.AsExpression:
            case SyntaxKind.CoalesceExpression:
            case SyntaxKind.UnsignedRightShiftExpression:
                Report(KernelDiagnostics.UnsupportedExpression, binary, binary.OperatorToken.ValueText);
                return "0";
        }

        string right = Expression(binary.Right);
        if (binary.IsKind(SyntaxKind.LeftShiftExpression) || binary.IsKind(SyntaxKind.RightShiftExpression))
        {
            right = ShiftCount(binary.Left, binary.Right, right);
        }

        return $"({Expression(binary.Left)} {binary.OperatorToken.ValueText} {right})";
    }

    /// <summary>
    /// C# takes a shift count modulo the operand's width; C leaves counts at or above the width undefined, so the
    /// count is masked the way C# masks it (a constant count is masked here).
    /// </summary>
    private string ShiftCount(ExpressionSyntax left, ExpressionSyntax count, string translated)
    {
        int mask = model.GetTypeInfo(left).ConvertedType?.SpecialType is SpecialType.System_Int64 or SpecialType.System_UInt64 ? 63 : 31;
        var constant = model.GetConstantValue(count);
        if (constant.HasValue && constant.Value is int value)
        {
            return (value & mask).ToString(CultureInfo.InvariantCulture);
        }

        return $"({translated} & {mask})";
    }

    private string Assignment(AssignmentExpressionSyntax assignment)
    {
        if (assignment.IsKind(SyntaxKind.CoalesceAssignmentExpression) || assignment.IsKind(SyntaxKind.UnsignedRightShiftAssignmentExpression))
        {
            Report(KernelDiagnostics.UnsupportedExpression, assignment, assignment.OperatorToken.ValueText);
            return "0";
        }

        if (assignment.Left is TupleExpressionSyntax or DeclarationExpressionSyntax)
        {
            Report(KernelDiagnostics.UnsupportedExpression, assignment.Left, Shorten(assignment.Left));
            return "0";
        }

        if (assignment.Right is RefExpressionSyntax)
        {
            Report(KernelDiagnostics.RefLocal, assignment, Shorten(assignment));
            return "0";
        }

        if (KernelSymbols.IsArrayView(model.GetTypeInfo(assignment.Left).Type, out _))
        {
            Report(KernelDiagnostics.MemoryAllocation, assignment, Shorten(assignment));
            return "0";
        }

        // A compound assignment's right side converts to the left side's type after the operation, as in C.
        string right = assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) ? Expression(assignment.Right) : RawOperand(assignment.Right);
        if (assignment.IsKind(SyntaxKind.LeftShiftAssignmentExpression) || assignment.IsKind(SyntaxKind.RightShiftAssignmentExpression))
        {
            right = ShiftCount(assignment.Left, assignment.Right, right);
        }

        return $"({Expression(assignment.Left)} {assignment.OperatorToken.ValueText} {right})";
    }

    private string RawOperand(ExpressionSyntax expression) => Expression(expression);

    private string Prefix(PrefixUnaryExpressionSyntax prefix)
    {
        switch (prefix.Kind())
        {
            case SyntaxKind.UnaryMinusExpression:
            case SyntaxKind.UnaryPlusExpression:
            case SyntaxKind.LogicalNotExpression:
            case SyntaxKind.BitwiseNotExpression:
            case SyntaxKind.PreIncrementExpression:
            case SyntaxKind.PreDecrementExpression:
                return $"({prefix.OperatorToken.ValueText}{Expression(prefix.Operand)})";
            default:
                Report(KernelDiagnostics.UnsupportedExpression, prefix, prefix.OperatorToken.ValueText);
                return "0";
        }
    }

    // ---- types ----

    private string? QuietScalarType(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Single => "float",
        SpecialType.System_Int32 => "int",
        SpecialType.System_UInt32 => dialect == CDialect.Cuda ? "unsigned int" : "uint",
        SpecialType.System_Int64 => Int64,
        SpecialType.System_UInt64 => dialect == CDialect.Cuda ? "unsigned long long" : "ulong",
        SpecialType.System_Boolean => "bool",
        _ => null,
    };

    /// <summary>The C name of a scalar type, or a reported diagnostic and <c>int</c>.</summary>
    public string ScalarType(ITypeSymbol? type, SyntaxNode at)
    {
        switch (type?.SpecialType)
        {
            case SpecialType.System_Single: return "float";
            case SpecialType.System_Int32: return "int";
            case SpecialType.System_UInt32: return dialect == CDialect.Cuda ? "unsigned int" : "uint";
            case SpecialType.System_Int64: return Int64;
            case SpecialType.System_UInt64: return dialect == CDialect.Cuda ? "unsigned long long" : "ulong";
            case SpecialType.System_Boolean: return "bool";
            case SpecialType.System_Double:
                Report(KernelDiagnostics.DoublePrecision, at, "double");
                return "float";
            case SpecialType.System_String:
            case SpecialType.System_Char:
                Report(KernelDiagnostics.Strings, at, type!.ToDisplayString());
                return "int";
            default:
                Report(KernelDiagnostics.UnsupportedType, at, type?.ToDisplayString() ?? "?");
                return "int";
        }
    }

    private sealed record ViewInfo(ViewKind Kind, int Length);
}
