namespace GpuTransformer.Runtime;

/// <summary>
/// Marks a static method that kernels may call. It is translated like a kernel body, into a device function of the
/// same program, and obeys the same rules; it may return a value and may not allocate shared memory.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class KernelHelperAttribute : Attribute
{
}
