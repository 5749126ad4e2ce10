using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// Every construct a kernel may not use, one descriptor each, with ids that never change meaning: tests and users
/// (for example <c>#pragma warning</c> or .editorconfig) refer to them. docs/kernel-language.md lists them.
/// </summary>
internal static class KernelDiagnostics
{
    private const string Category = "GpuTransformer.Kernels";

    public static readonly DiagnosticDescriptor KernelShape = Error(
        "GTK0001", "Invalid kernel method", "[Kernel] method '{0}' must be static, return void, have no type parameters and be declared in partial types");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Error(
        "GTK0002", "Unsupported kernel parameter", "parameter '{0}': a kernel takes ArrayView<float|int|uint|long> and float, int, uint or long scalars (by value)");

    public static readonly DiagnosticDescriptor UnsupportedType = Error(
        "GTK0003", "Unsupported type in a kernel", "type '{0}' cannot be used in a kernel; use float, int, uint, long, ulong, bool or ArrayView<T>");

    public static readonly DiagnosticDescriptor Allocation = Error(
        "GTK0004", "Allocation in a kernel", "'{0}' allocates managed memory, which a kernel cannot do; use SharedMemory.Allocate or LocalMemory.Allocate with a constant length");

    public static readonly DiagnosticDescriptor Strings = Error(
        "GTK0005", "String in a kernel", "'{0}': strings and characters do not exist on the device");

    public static readonly DiagnosticDescriptor Linq = Error(
        "GTK0006", "LINQ or lambda in a kernel", "'{0}': LINQ, lambdas, delegates and local functions cannot run in a kernel");

    public static readonly DiagnosticDescriptor Exceptions = Error(
        "GTK0007", "Exception handling in a kernel", "'{0}': exceptions (throw, try, catch, finally) cannot run in a kernel");

    public static readonly DiagnosticDescriptor Foreach = Error(
        "GTK0008", "foreach in a kernel", "'{0}': foreach is not supported in kernels; use a for loop over an index");

    public static readonly DiagnosticDescriptor RefLocal = Error(
        "GTK0009", "ref to memory other than shared or local", "'{0}': ref locals may refer only to elements of SharedMemory or LocalMemory arrays, and ref/out arguments and ref returns are not supported");

    public static readonly DiagnosticDescriptor VirtualCall = Error(
        "GTK0010", "Instance or virtual call in a kernel", "'{0}' is an instance, virtual or interface call; kernels call only static [KernelHelper] methods and XMath");

    public static readonly DiagnosticDescriptor UnsupportedCall = Error(
        "GTK0011", "Call to a method a kernel cannot call", "'{0}' cannot be called from a kernel; mark it [KernelHelper] or use the XMath function");

    public static readonly DiagnosticDescriptor MemoryAllocation = Error(
        "GTK0012", "Invalid shared or local memory allocation", "'{0}': SharedMemory.Allocate and LocalMemory.Allocate need a constant length and must initialise a local declared with var or ArrayView<T>; SharedMemory.Allocate only at the top level of a [Kernel] body");

    public static readonly DiagnosticDescriptor BarrierPlacement = Error(
        "GTK0013", "Group.Barrier() where the whole group cannot reach it", "'{0}': Group.Barrier() must be a statement in a [Kernel] body (not a helper), and a loop that contains one may not be left by break or continue");

    public static readonly DiagnosticDescriptor UnsupportedStatement = Error(
        "GTK0014", "Unsupported statement in a kernel", "'{0}' statements are not supported in kernels");

    public static readonly DiagnosticDescriptor UnsupportedExpression = Error(
        "GTK0015", "Unsupported expression in a kernel", "'{0}' is not supported in kernels");

    public static readonly DiagnosticDescriptor FieldAccess = Error(
        "GTK0016", "Non-constant field in a kernel", "'{0}' is a field that is not a constant; kernels read only constants, parameters and locals");

    public static readonly DiagnosticDescriptor Recursion = Error(
        "GTK0017", "Recursive helper", "helper '{0}' calls itself, directly or through other helpers; OpenCL and CUDA functions cannot recurse");

    public static readonly DiagnosticDescriptor DoublePrecision = Error(
        "GTK0018", "Double precision in a kernel", "'{0}' is double precision, which OpenCL 1.2 devices need not support; use float (a literal needs the f suffix)");

    public static readonly DiagnosticDescriptor TooManyParameters = Error(
        "GTK0019", "Too many kernel parameters", "kernel '{0}' has more than 32 parameters");

    public static readonly DiagnosticDescriptor HelperShape = Error(
        "GTK0020", "Invalid kernel helper", "[KernelHelper] method '{0}' must be static, have no type parameters, and take and return only float, int, uint, long, ulong or bool (or return void)");

    private static readonly Dictionary<string, DiagnosticDescriptor> All = typeof(KernelDiagnostics)
        .GetFields()
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null))
        .ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => All[id];

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: "docs/kernel-language.md#" + id.ToLowerInvariant());
}
