namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// Everything the generator emits for one [Kernel] method, as plain values: the translated C bodies, the C# for the
/// emulator, and what to report. Built once per method; equal models mean nothing needs emitting again.
/// </summary>
internal sealed record KernelModel(
    string HintName,
    string Namespace,
    string Usings,
    EquatableArray<ContainingType> ContainingTypes,
    string Accessibility,
    string MethodName,
    string SourceMethod,
    string EntryName,
    EquatableArray<KernelParameterModel> Parameters,
    string OpenCLFunction,
    string CudaFunction,
    EquatableArray<string> CalledHelpers,
    bool UsesBarriers,
    int SharedMemoryBytes,
    string? GroupBody,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>A type enclosing a kernel, re-declared as partial around the generated members.</summary>
internal sealed record ContainingType(string Keyword, string Name, bool IsStatic);

/// <summary>One kernel parameter: its C# type for the launcher and how it crosses to the device.</summary>
internal sealed record KernelParameterModel(string Name, string CSharpType, bool IsView, string ElementType);

/// <summary>A place to report a diagnostic found after translation (recursion through helpers).</summary>
internal sealed record DiagnosticLocation(string FilePath, Microsoft.CodeAnalysis.Text.TextSpan Span, Microsoft.CodeAnalysis.Text.LinePositionSpan LineSpan);

/// <summary>
/// One [KernelHelper] method translated to a C function for each dialect, with where it is declared (for its
/// diagnostics). Kernels link <see cref="HelperCode"/>, its location-free part, so that an edit that only moves a
/// helper in its file re-emits no kernel.
/// </summary>
internal sealed record HelperModel(
    string CName,
    string DisplayName,
    string OpenCLPrototype,
    string OpenCLFunction,
    string CudaPrototype,
    string CudaFunction,
    EquatableArray<string> CalledHelpers,
    EquatableArray<DiagnosticInfo> Diagnostics,
    DiagnosticLocation Location);

/// <summary>The part of a helper that kernels link into their programs: its C, and the helpers it calls.</summary>
internal sealed record HelperCode(
    string CName,
    string OpenCLPrototype,
    string OpenCLFunction,
    string CudaPrototype,
    string CudaFunction,
    EquatableArray<string> CalledHelpers)
{
    public static HelperCode From(HelperModel helper) =>
        new(helper.CName, helper.OpenCLPrototype, helper.OpenCLFunction, helper.CudaPrototype, helper.CudaFunction, helper.CalledHelpers);
}
